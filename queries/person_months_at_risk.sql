-- Person-months at risk by month, for budget holders and the comparison group, per site and for
-- all selected sites (site_code null), with the emergency admissions, their bed days and the people
-- admitted while at risk. Every month of the period is present (zero where nobody was at risk).
-- At risk: a budget holder from budget_start to the day before budget_end (a budget ending on a day
-- is not in place that day), or to the end of the period; the comparison group from index_date to
-- the end of the period. A person-month is one person at risk for a whole calendar month: each day
-- at risk counts 1 / (days in that month). Only days from $date_from to $date_to count.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: people, admission_lines and person_keys (built at load).
with months as (
    select
        cast(m as date) as month,
        cast(m + interval 1 month as date) as next_month
    from range(
        cast(date_trunc('month', $date_from::date) as date),
        cast($date_to::date + interval 1 day as date),
        interval 1 month
    ) as t(m)
),

cells as (
    select
        m.month,
        s.site_code,
        g.grp
    from months as m
    cross join (select site_code from sites where $sites is null or list_contains($sites, site_code)) as s
    cross join (values ('budget_holders'), ('comparison')) as g(grp)
),

at_risk as (
    -- each person's time at risk, as [starts_on, ends_before), inside the period
    select
        person_id,
        site_code,
        grp,
        greatest(starts_on, $date_from::date) as starts_on,
        least(ends_before, cast($date_to::date + interval 1 day as date)) as ends_before
    from (
        select
            person_id,
            site_code,
            'budget_holders' as grp,
            budget_start as starts_on,
            coalesce(budget_end, cast($date_to::date + interval 1 day as date)) as ends_before
        from people
        where outcome = 'budget_in_place'
            and ($management is null or list_contains($management, management_option))
        union all
        select
            person_id,
            site_code,
            'comparison' as grp,
            index_date as starts_on,
            cast($date_to::date + interval 1 day as date) as ends_before
        from people
        where arm = 'comparison' and outcome <> 'budget_in_place' and index_date is not null
    ) as p
    where $sites is null or list_contains($sites, site_code)
),

exposure as (
    select
        m.month,
        r.site_code,
        r.grp,
        sum(
            date_diff('day', greatest(r.starts_on, m.month), least(r.ends_before, m.next_month))
            / date_diff('day', m.month, m.next_month)
        ) as person_months
    from months as m
    inner join at_risk as r
        on r.starts_on < m.next_month and r.ends_before > m.month and r.starts_on < r.ends_before
    group by grouping sets ((m.month, r.site_code, r.grp), (m.month, r.grp))
),

stays as (
    select
        cast(date_trunc('month', a.admitted_on) as date) as month,
        r.site_code,
        r.grp,
        a.person_key,
        a.bed_days
    from admission_lines as a
    inner join person_keys as k on k.person_key = a.person_key
    inner join at_risk as r on r.person_id = k.person_id
    where a.admission_method = 'emergency'
        and a.admitted_on >= r.starts_on
        and a.admitted_on < r.ends_before
),

counted as (
    select
        month,
        site_code,
        grp,
        count(*) as admissions,
        sum(bed_days) as bed_days,
        count(distinct person_key) as people
    from stays
    group by grouping sets ((month, site_code, grp), (month, grp))
),

final as (
    select
        c.month,
        c.site_code,
        c.grp,
        coalesce(e.person_months, 0) as person_months,
        coalesce(n.admissions, 0) as admissions,
        coalesce(n.bed_days, 0) as bed_days,
        coalesce(n.people, 0) as people
    from (select * from cells union all select distinct month, null as site_code, grp from cells) as c
    left join exposure as e
        on e.month = c.month and e.grp = c.grp and e.site_code is not distinct from c.site_code
    left join counted as n
        on n.month = c.month and n.grp = c.grp and n.site_code is not distinct from c.site_code
)

select * from final
order by site_code nulls first, grp, month

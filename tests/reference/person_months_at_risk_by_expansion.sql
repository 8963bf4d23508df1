-- The reference for queries/person_months_at_risk.sql (tests/test_queries.py): the same figures worked out
-- the plain way, with a row per person and month at risk. This was the dashboard's own query until the
-- running-sum version replaced it (at a million people it made about 20 million rows per call), and is
-- kept here only so the tests can check the two agree.
-- Person-months at risk by month or quarter, for budget holders and the comparison group, per site
-- and for all selected sites (site_code null), with the emergency admissions, their bed days and the
-- people admitted while at risk. Every period is present (zero where nobody was at risk).
-- For disclosure control: `person_months_ckey` (the record keys of the people at risk in the period,
-- summed modulo 256), `admissions_ckey` (the admissions' record keys, likewise), and for bed days
-- `top1` and `top2` (the two largest per-person bed days) and `mkey` (the record keys of the people
-- admitted, summed modulo 256).
-- At risk: a budget holder from budget_start to the day before budget_end (a budget ending on a day
-- is not in place that day), or to the end of the period; the comparison group from index_date to
-- the end of the period. A person-month is one person at risk for a whole calendar month: each day
-- at risk counts 1 / (days in that month). Only days from $date_from to $date_to count.
-- Parameters: $grain ('month' or 'quarter'), $sites (list or null), $date_from, $date_to (date),
-- $management (list or null; applies to budget holders only).
-- Sources: people, admission_lines and person_keys (built at load).
with months as (
    select
        cast(date_trunc($grain, m) as date) as period,
        cast(m as date) as month,
        cast(m + interval 1 month as date) as next_month
    from (
        -- the first day of each month from $date_from's month to $date_to's
        select unnest(generate_series(cast(date_trunc('month', $date_from::date) as date), $date_to::date, interval 1 month))
            as m
    ) as t
),

cells as (
    select distinct
        m.period,
        s.site_code,
        g.grp
    from months as m
    cross join (select site_code from sites where in_selection(site_code, $sites)) as s
    cross join (values ('budget_holders'), ('comparison')) as g(grp)
),

at_risk as (
    -- each person's time at risk, as [starts_on, ends_before), inside the period, with their whole-number
    -- key and record key (joined once per person, not once per person-month)
    select
        k.person_key,
        k.record_key,
        p.site_code,
        p.grp,
        greatest(p.starts_on, $date_from::date) as starts_on,
        least(p.ends_before, cast($date_to::date + interval 1 day as date)) as ends_before
    from (
        select
            person_id,
            site_code,
            'budget_holders' as grp,
            budget_start as starts_on,
            coalesce(budget_end, cast($date_to::date + interval 1 day as date)) as ends_before
        from people
        where outcome = 'budget_in_place'
            and in_selection(management_option, $management)
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
    inner join person_keys as k on k.person_id = p.person_id
    where in_selection(p.site_code, $sites)
),

person_periods as (
    -- each person's share of each month at risk; their record key is counted in the first month of each
    -- period they are at risk in (their time at risk is one stretch), so once per person and period
    select
        m.period,
        r.site_code,
        r.grp,
        case
            when m.month = greatest(m.period, cast(date_trunc('month', r.starts_on) as date)) then r.record_key
            else 0
        end as record_key,
        date_diff('day', greatest(r.starts_on, m.month), least(r.ends_before, m.next_month))
        / date_diff('day', m.month, m.next_month) as person_months
    from months as m
    inner join at_risk as r
        on r.starts_on < m.next_month and r.ends_before > m.month and r.starts_on < r.ends_before
),

exposure as (
    select
        period,
        site_code,
        grp,
        sum(person_months) as person_months,
        cast(sum(record_key) % 256 as integer) as person_months_ckey
    from person_periods
    group by grouping sets ((period, site_code, grp), (period, grp))
),

stays as (
    select
        cast(date_trunc($grain, a.admitted_on) as date) as period,
        r.site_code,
        r.grp,
        a.person_key,
        a.person_record_key,
        a.record_key,
        a.bed_days
    from admission_lines as a
    inner join at_risk as r on r.person_key = a.person_key
    where a.admission_method = 'emergency'
        and a.admitted_on >= r.starts_on
        and a.admitted_on < r.ends_before
),

per_person as (
    -- each admitted person's admissions and bed days in the period, per site and for all sites
    select
        grouping(site_code) as level,
        period,
        site_code,
        grp,
        person_key,
        any_value(person_record_key) as person_record_key,
        count(*) as admissions,
        sum(record_key) as admission_keys,
        sum(bed_days) as bed_days
    from stays
    group by grouping sets ((period, site_code, grp, person_key), (period, grp, person_key))
),

counted as (
    select
        period,
        site_code,
        grp,
        sum(admissions) as admissions,
        cast(sum(admission_keys) % 256 as integer) as admissions_ckey,
        sum(bed_days) as bed_days,
        count(*) as people,
        coalesce(max(bed_days, 2)[1], 0) as top1,
        coalesce(max(bed_days, 2)[2], 0) as top2,
        cast(sum(person_record_key) % 256 as integer) as mkey
    from per_person
    group by level, period, site_code, grp
),

final as (
    select
        c.period,
        c.site_code,
        c.grp,
        coalesce(e.person_months, 0) as person_months,
        coalesce(e.person_months_ckey, 0) as person_months_ckey,
        coalesce(n.admissions, 0) as admissions,
        coalesce(n.admissions_ckey, 0) as admissions_ckey,
        coalesce(n.bed_days, 0) as bed_days,
        coalesce(n.people, 0) as people,
        coalesce(n.top1, 0) as top1,
        coalesce(n.top2, 0) as top2,
        coalesce(n.mkey, 0) as mkey
    from (select * from cells union all select distinct period, null as site_code, grp from cells) as c
    left join exposure as e
        on e.period = c.period and e.grp = c.grp and e.site_code is not distinct from c.site_code
    left join counted as n
        on n.period = c.period and n.grp = c.grp and n.site_code is not distinct from c.site_code
)

select * from final
order by site_code nulls first, grp, period

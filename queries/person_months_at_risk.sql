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
-- Sources: sites, at_risk_spans and at_risk_admissions (built at load).
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
    -- each person's time at risk (at_risk_spans, built at load) cut to the period, as [starts_on, ends_before)
    select
        record_key,
        site_code,
        grp,
        greatest(starts_on, $date_from::date) as starts_on,
        least(coalesce(ends_before, cast($date_to::date + interval 1 day as date)), cast($date_to::date + interval 1 day as date))
            as ends_before
    from at_risk_spans
    where in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
),

spans as (
    -- each person's stretch at risk, with its first and last month
    select
        site_code,
        grp,
        record_key,
        starts_on,
        ends_before,
        cast(date_trunc('month', starts_on) as date) as first_month,
        cast(date_trunc('month', ends_before - interval 1 day) as date) as last_month
    from at_risk
    where starts_on < ends_before
),

grouped as (
    -- the spans with the same first and last month at a site in a group, summed: their parts of their
    -- first and last month, how many they are and their record keys
    select
        first_month,
        last_month,
        site_code,
        grp,
        sum(
            date_diff('day', starts_on, least(ends_before, cast(first_month + interval 1 month as date)))
            / date_diff('day', first_month, cast(first_month + interval 1 month as date))
        ) as first_part,
        sum(date_diff('day', last_month, ends_before) / date_diff('day', last_month, cast(last_month + interval 1 month as date)))
            as last_part,
        count(*) as people,
        sum(record_key) as keys
    from spans
    group by first_month, last_month, site_code, grp
),

changes as (
    -- a person-month is counted without a row per person and month: the people give their part of
    -- their first and last month (one row when these are the same month), a step up of one whole month
    -- at risk from the month after their first to the step down at their last, and their record keys
    -- from the period of their first month to the period after their last; running sums over the
    -- months (below) give each month's people wholly at risk and each period's keys
    select first_month as month, site_code, grp, first_part as part, 0 as whole_change, 0 as key_change
    from grouped
    union all
    select last_month, site_code, grp, last_part, 0, 0
    from grouped
    where last_month > first_month
    union all
    select cast(first_month + interval 1 month as date), site_code, grp, 0, people, 0
    from grouped
    where last_month > first_month
    union all
    select last_month, site_code, grp, 0, -people, 0
    from grouped
    where last_month > first_month
    union all
    -- the first period's keys go in the first month of the period chosen, which may start mid-quarter
    select
        greatest(cast(date_trunc($grain, first_month) as date), cast(date_trunc('month', $date_from::date) as date)),
        site_code,
        grp,
        0,
        0,
        keys
    from grouped
    union all
    select
        cast(date_trunc($grain, last_month) + case when $grain = 'month' then interval 1 month else interval 3 month end as date),
        site_code,
        grp,
        0,
        0,
        -keys
    from grouped
),

by_month as (
    select
        m.period,
        m.month,
        c.site_code,
        c.grp,
        coalesce(ch.part, 0) as part,
        coalesce(ch.whole_change, 0) as whole_change,
        coalesce(ch.key_change, 0) as key_change
    from months as m
    cross join (select distinct site_code, grp from cells) as c
    left join (
        select
            month,
            site_code,
            grp,
            sum(part) as part,
            sum(whole_change) as whole_change,
            sum(key_change) as key_change
        from changes
        group by month, site_code, grp
    ) as ch on ch.month = m.month and ch.site_code = c.site_code and ch.grp = c.grp
),

per_site as (
    -- each month's people wholly at risk and the keys of the people at risk in its period are running sums
    -- of the changes; keys change only where a period starts, so every month of a period holds its keys
    select
        period,
        site_code,
        grp,
        sum(person_months) as person_months,
        max(keys) as keys
    from (
        select
            period,
            site_code,
            grp,
            part + sum(whole_change) over w as person_months,
            sum(key_change) over w as keys
        from by_month
        window w as (partition by site_code, grp order by month rows between unbounded preceding and current row)
    ) as t
    group by period, site_code, grp
),

exposure as (
    select
        period,
        site_code,
        grp,
        person_months,
        cast(keys % 256 as integer) as person_months_ckey
    from per_site
    union all
    select
        period,
        null as site_code,
        grp,
        sum(person_months) as person_months,
        cast(sum(keys) % 256 as integer) as person_months_ckey
    from per_site
    group by period, grp
),

stays as (
    -- the emergency admissions while at risk (at_risk_admissions, built at load) in the period
    select
        cast(date_trunc($grain, admitted_on) as date) as period,
        site_code,
        grp,
        person_key,
        person_record_key,
        record_key,
        bed_days
    from at_risk_admissions
    where admitted_on between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
),

per_person as (
    -- each admitted person's admissions and bed days in the period (a person belongs to one site, so
    -- these rows serve both each site and all sites together)
    select
        period,
        site_code,
        grp,
        person_key,
        any_value(person_record_key) as person_record_key,
        count(*) as admissions,
        sum(record_key) as admission_keys,
        sum(bed_days) as bed_days
    from stays
    group by period, site_code, grp, person_key
),

by_site as (
    select
        period,
        site_code,
        grp,
        sum(admissions) as admissions,
        sum(admission_keys) as admission_keys,
        sum(bed_days) as bed_days,
        count(*) as people,
        coalesce(max(bed_days, 2)[1], 0) as top1,
        coalesce(max(bed_days, 2)[2], 0) as top2,
        sum(person_record_key) as person_keys
    from per_person
    group by period, site_code, grp
),

counted as (
    -- each site's rows, and all selected sites' from those: each person is at one site, so the sums and
    -- counts add up, and the two largest bed days over sites are max(top1) and the macro combined_top2's
    select
        period,
        site_code,
        grp,
        admissions,
        cast(admission_keys % 256 as integer) as admissions_ckey,
        bed_days,
        people,
        top1,
        top2,
        cast(person_keys % 256 as integer) as mkey
    from by_site
    union all
    select
        period,
        null as site_code,
        grp,
        sum(admissions) as admissions,
        cast(sum(admission_keys) % 256 as integer) as admissions_ckey,
        sum(bed_days) as bed_days,
        cast(sum(people) as bigint) as people,
        max(top1) as top1,
        combined_top2(top1, top2) as top2,
        cast(sum(person_keys) % 256 as integer) as mkey
    from by_site
    group by period, grp
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

-- Spending per budget holder, summarised: for each site, each management option and all selected
-- holders (null in both), the holders whose budget was in place at some time in the period; the
-- median and quartiles of their net spending paid in the period, each as the mean of the 5
-- holders' values nearest that quantile's rank (0-based rank p * (n - 1), rounded half up and moved
-- inwards at the ends so 5 values are always taken; all of them where fewer than 5); and
-- utilisation: total net spending over their annual budgets pro rata to the days in place within
-- the period (an open budget runs to the end of the data). For disclosure control of the total:
-- `top1`, `top2` (the two largest absolute per-holder net sums) and `mkey` (the sum of the holders'
-- record keys modulo 256). Only summaries leave the warehouse, never a person's figure.
-- holders_ckey is the cell key of the holders counted (sum of their record keys mod 256).
-- Each level's values are sorted once into a list and the 5 around each quantile read from it by
-- position (the macro sum_of_five): at a million people over all sites, 290 ms where numbering
-- every holder at each level with row_number() took 620 ms.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null),
-- $period_end (date, the end of the data).
-- A period that covers all the spending (the macro spend_covered) reads each holder's net spending
-- from spend_person_totals instead of summing their lines.
-- Sources: people_keyed, spend_person_totals, spend_period, and spend_lines and spend_person_months
-- through the macro spend_in_selection (queries/macros/); all built at load.
with holders as (
    select
        p.site_code,
        p.management_option,
        p.person_key,
        p.record_key,
        p.annual_budget_gbp,
        greatest(p.budget_start, $date_from::date) as in_from,
        -- the last day in place: the day before budget_end, else the end of the data; within the period
        least(coalesce(p.budget_end - 1, $period_end::date), $date_to::date) as in_to
    from people_keyed as p
    where p.outcome = 'budget_in_place'
        and in_selection(p.site_code, $sites)
        and in_selection(p.management_option, $management)
),

spent as (
    -- each holder's net spending in the period: from spend_person_totals where the period covers all
    -- the spending, else summed from the lines (read only where it does not)
    select
        person_key,
        sum(paid_gbp + refunded_gbp) as net_gbp
    from spend_in_selection($date_from, $date_to, $sites, $management)
    where not spend_covered($date_from, $date_to)
    group by person_key
    union all
    select
        person_key,
        spend_gbp + refunds_gbp as net_gbp
    from spend_person_totals
    where level = 1
        and spend_covered($date_from, $date_to)
        and in_selection(site_code, $sites)
        and in_selection(management_option, $management)
),

per_holder as (
    select
        h.site_code,
        h.management_option,
        h.record_key,
        -- 64 bits, not the 128 of a sum: sorted quicker (at a million people, 25 ms of 165)
        cast(coalesce(s.net_gbp, 0) as decimal(18, 2)) as net_gbp,
        h.annual_budget_gbp * (date_diff('day', h.in_from, h.in_to) + 1) / 365.25 as pro_rata_budget_gbp
    from holders as h
    left join spent as s on s.person_key = h.person_key
    where h.in_to >= h.in_from
),

levels as (
    -- each holder once per level: their site (level 1), their management option (2), all (3)
    select 1 as level, site_code, null::varchar as management_option, record_key, net_gbp, pro_rata_budget_gbp
    from per_holder
    union all
    select 2 as level, null::varchar as site_code, management_option, record_key, net_gbp, pro_rata_budget_gbp
    from per_holder
    union all
    select 3 as level, null::varchar as site_code, null::varchar as management_option, record_key, net_gbp,
        pro_rata_budget_gbp
    from per_holder
),

sorted as (
    -- each level's holders: their net sums in order, and the totals
    select
        level,
        site_code,
        management_option,
        count(*) as n,
        list_sort(list(net_gbp)) as values_in_order,
        sum(net_gbp) as net_gbp,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        sum(record_key) % 256 as keys,
        sum(pro_rata_budget_gbp) as pro_rata_budget_gbp
    from levels
    group by level, site_code, management_option
),

centred as (
    -- the 1-based position of the first of the 5 values averaged for each quantile (the middle one's
    -- 0-based rank, less 1); with fewer than 5 holders all of them are averaged instead (below)
    select
        *,
        cast(least(greatest(floor(0.25 * (n - 1) + 0.5), 2), greatest(n - 3, 2)) - 1 as integer) as f1,
        cast(least(greatest(floor(0.5 * (n - 1) + 0.5), 2), greatest(n - 3, 2)) - 1 as integer) as f2,
        cast(least(greatest(floor(0.75 * (n - 1) + 0.5), 2), greatest(n - 3, 2)) - 1 as integer) as f3
    from sorted
),

final as (
    select
        site_code,
        management_option,
        n as holders,
        cast(keys as integer) as holders_ckey,
        case when n < 5 then net_gbp / n else sum_of_five(values_in_order, f1) / 5 end as q1_gbp,
        case when n < 5 then net_gbp / n else sum_of_five(values_in_order, f2) / 5 end as median_gbp,
        case when n < 5 then net_gbp / n else sum_of_five(values_in_order, f3) / 5 end as q3_gbp,
        net_gbp,
        top1,
        top2,
        cast(keys as integer) as mkey,
        pro_rata_budget_gbp
    from centred
)

select * from final
order by site_code nulls last, management_option nulls last

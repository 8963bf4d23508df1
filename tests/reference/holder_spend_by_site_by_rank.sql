-- A reference for tests only: holder_spend_by_site as it was before it read quantiles from a sorted
-- list, numbering every holder at each level with row_number() and averaging the 5 ranked nearest
-- each quantile (avg ... filter). The same rule worked out another way; tests compare the two.
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
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null),
-- $period_end (date, the end of the data).
-- Sources: people_keyed, spend_lines and spend_person_months (built at load) through the
-- macro spend_in_selection (queries/macros/).
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
    select
        person_key,
        sum(paid_gbp + refunded_gbp) as net_gbp
    from spend_in_selection($date_from, $date_to, $sites, $management)
    group by person_key
),

per_holder as (
    select
        h.site_code,
        h.management_option,
        h.record_key,
        coalesce(s.net_gbp, 0) as net_gbp,
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

ranked as (
    select
        *,
        row_number() over (partition by level, site_code, management_option order by net_gbp) - 1 as rank0,
        count(*) over (partition by level, site_code, management_option) as n
    from levels
),

centred as (
    -- the middle rank of the 5 values averaged for each quantile
    select
        *,
        least(greatest(floor(0.25 * (n - 1) + 0.5), 2), n - 3) as c1,
        least(greatest(floor(0.5 * (n - 1) + 0.5), 2), n - 3) as c2,
        least(greatest(floor(0.75 * (n - 1) + 0.5), 2), n - 3) as c3
    from ranked
),

final as (
    select
        site_code,
        management_option,
        count(*) as holders,
        cast(sum(record_key) % 256 as integer) as holders_ckey,
        avg(net_gbp) filter (where abs(rank0 - c1) <= 2) as q1_gbp,
        avg(net_gbp) filter (where abs(rank0 - c2) <= 2) as median_gbp,
        avg(net_gbp) filter (where abs(rank0 - c3) <= 2) as q3_gbp,
        sum(net_gbp) as net_gbp,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey,
        sum(pro_rata_budget_gbp) as pro_rata_budget_gbp
    from centred
    group by level, site_code, management_option
)

select * from final
order by site_code nulls last, management_option nulls last

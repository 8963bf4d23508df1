-- Spending per budget holder, summarised: for each site, each management option and all selected
-- holders (null in both), the holders whose budget was in place at some time in the period, the
-- median and quartiles of their net spending paid in the period, and utilisation: total net
-- spending over their annual budgets pro rata to the days in place within the period (an open
-- budget runs to the end of the data). Only summaries leave the warehouse, never a person's figure.
-- holders_ckey is the cell key of the holders counted (sum of their record keys mod 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null),
-- $period_end (date, the end of the data).
-- Sources: people, person_keys and spend_lines (built at load).
with holders as (
    select
        p.site_code,
        p.management_option,
        k.person_key,
        k.record_key,
        p.annual_budget_gbp,
        greatest(p.budget_start, $date_from::date) as in_from,
        -- the last day in place: the day before budget_end, else the end of the data; within the period
        least(coalesce(p.budget_end - 1, $period_end::date), $date_to::date) as in_to
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
    where p.outcome = 'budget_in_place'
        and ($sites is null or list_contains($sites, p.site_code))
        and ($management is null or list_contains($management, p.management_option))
),

spent as (
    select
        person_key,
        sum(amount_gbp) as net_gbp
    from spend_lines
    where paid_on between $date_from and $date_to
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

final as (
    select
        site_code,
        management_option,
        count(*) as holders,
        cast(sum(record_key) % 256 as integer) as holders_ckey,
        quantile_cont(net_gbp, 0.25) as q1_gbp,
        median(net_gbp) as median_gbp,
        quantile_cont(net_gbp, 0.75) as q3_gbp,
        sum(net_gbp) as net_gbp,
        sum(pro_rata_budget_gbp) as pro_rata_budget_gbp
    from per_holder
    group by grouping sets ((site_code), (management_option), ())
)

select * from final
order by site_code nulls last, management_option nulls last

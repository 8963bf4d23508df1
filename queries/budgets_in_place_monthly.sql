-- Budgets in place at the end of each month of the period, by site (and on the period's last
-- day for its final, possibly part, month).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: people.
with month_ends as (
    select least(cast(m + interval 1 month - interval 1 day as date), $date_to::date) as on_date
    from range(
        cast(date_trunc('month', $date_from::date) as date),
        cast($date_to::date + interval 1 day as date),
        interval 1 month
    ) as t(m)
),

holders as (
    select
        site_code,
        budget_start,
        budget_end
    from people
    where outcome = 'budget_in_place'
        and ($sites is null or list_contains($sites, site_code))
        and ($management is null or list_contains($management, management_option))
),

final as (
    select
        m.on_date,
        h.site_code,
        count(*) as budgets_in_place
    from month_ends as m
    inner join holders as h
        on h.budget_start <= m.on_date and (h.budget_end is null or h.budget_end > m.on_date)
    group by m.on_date, h.site_code
)

select * from final
order by on_date, site_code

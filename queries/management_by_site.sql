-- Budgets set up in the period (budget start in the period) by site and how the money is held.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: people.
with budgets as (
    select
        site_code,
        management_option
    from people
    where outcome = 'budget_in_place'
        and budget_start between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and ($management is null or list_contains($management, management_option))
),

final as (
    select
        site_code,
        management_option,
        count(*) as budgets
    from budgets
    group by site_code, management_option
)

select * from final
order by site_code, management_option

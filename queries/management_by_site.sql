-- Budgets set up in the period (budget start in the period) by site and how the money is held.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: people_keyed (built at load).
with budgets as (
    select
        p.site_code,
        p.management_option,
        p.record_key
    from people_keyed as p
    where outcome = 'budget_in_place'
        and budget_start between $date_from and $date_to
        and in_selection(site_code, $sites)
        and in_selection(management_option, $management)
),

final as (
    select
        site_code,
        management_option,
        count(*) as budgets,
        cast(sum(record_key) % 256 as integer) as budgets_ckey
    from budgets
    group by site_code, management_option
)

select * from final
order by site_code, management_option

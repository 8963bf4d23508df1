-- Spending paid in the period by site and category, with subtotals: one row per site and
-- category, per site (category null), per category (site null) and overall (both null).
-- `people` counts the budget holders contributing to each row, `refund_people` those with a refund
-- or recovery (for disclosure control).
-- Refunds and recoveries (negative lines) are summed apart from spending.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: spend_lines (built at load).
with per_person as (
    -- one row per person and category first, so the subtotals count people over fewer rows
    select
        site_code,
        category,
        person_key,
        coalesce(sum(amount_gbp) filter (where amount_gbp > 0), 0) as spend_gbp,
        coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as refunds_gbp,
        sum(amount_gbp) as net_gbp
    from spend_lines
    where paid_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and ($management is null or list_contains($management, management_option))
    group by site_code, category, person_key
),

final as (
    select
        site_code,
        category,
        sum(spend_gbp) as spend_gbp,
        sum(refunds_gbp) as refunds_gbp,
        sum(net_gbp) as net_gbp,
        count(distinct person_key) as people,
        count(distinct person_key) filter (where refunds_gbp < 0) as refund_people
    from per_person
    group by grouping sets ((site_code, category), (site_code), (category), ())
)

select * from final
order by site_code nulls last, category nulls last

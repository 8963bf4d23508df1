-- Spending paid in the period by site and category, with subtotals: one row per site and
-- category, per site (category null), per category (site null) and overall (both null).
-- `people` counts the budget holders contributing to each row (for disclosure control).
-- Refunds and recoveries (negative lines) are summed apart from spending.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: spend, people.
with lines as (
    select
        p.site_code,
        s.category,
        s.person_id,
        s.amount_gbp
    from spend as s
    inner join people as p on p.person_id = s.person_id
    where s.paid_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, p.site_code))
        and ($management is null or list_contains($management, p.management_option))
),

final as (
    select
        site_code,
        category,
        coalesce(sum(amount_gbp) filter (where amount_gbp > 0), 0) as spend_gbp,
        coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as refunds_gbp,
        sum(amount_gbp) as net_gbp,
        count(distinct person_id) as people
    from lines
    group by grouping sets ((site_code, category), (site_code), (category), ())
)

select * from final
order by site_code nulls last, category nulls last

-- Spending paid in the period by site and category, with subtotals: one row per site and
-- category, per site (category null), per category (site null) and overall (both null).
-- `people` counts the budget holders contributing to each row, `refund_people` those with a refund
-- or recovery (for disclosure control).
-- Refunds and recoveries (negative lines) are summed apart from spending.
-- refund_people_ckey is the cell key of the people with a refund (sum of their record keys mod 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: spend_lines (built at load).
with per_person as (
    -- one row per person and category first, so the subtotals count people over fewer rows
    select
        site_code,
        category,
        person_key,
        any_value(record_key) as record_key,
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
        count(distinct person_key) filter (where refunds_gbp < 0) as refund_people,
        -- in a grouping with category one row is one person; without it a person can have several
        -- rows, so record keys are summed over distinct people through a list
        cast(coalesce(list_sum(list_distinct(list(struct_pack(k := person_key, r := record_key))
            filter (where refunds_gbp < 0)).apply(lambda x: x.r)), 0) % 256 as integer) as refund_people_ckey
    from per_person
    group by grouping sets ((site_code, category), (site_code), (category), ())
)

select * from final
order by site_code nulls last, category nulls last

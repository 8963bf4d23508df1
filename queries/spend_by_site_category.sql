-- Spending paid in the period by site and category, with subtotals: one row per site and
-- category, per site (category null), per category (site null) and overall (both null).
-- For disclosure control each row also carries, over the people contributing to it (per-person
-- sums within the row): `people`, `top1` and `top2` (the two largest absolute per-person net
-- contributions, 0 where there are fewer) and `mkey` (the sum of their record keys modulo 256);
-- and the same for refunds and recoveries (`refund_people`, `refund_top1`, `refund_top2`,
-- `refund_mkey`, over the people with a refund in the row).
-- Refunds and recoveries (negative lines) are summed apart from spending.
-- people_ckey and refund_people_ckey are the cell keys of those people (sum of their record keys mod 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- The rows by site and category and by site are worked out from each person's sums; the rows by
-- category and overall from those (each person has one site, so counts, sums and key sums add up
-- across sites, and the second largest contribution is the macro combined_top2's).
-- Sources: spend_lines and spend_person_months (built at load), through the macro spend_in_selection
-- (queries/macros/).
with lines as (
    select
        site_code,
        category,
        person_key,
        record_key,
        paid_gbp,
        refunded_gbp
    from spend_in_selection($date_from, $date_to, $sites, $management)
),

by_site_category as (
    -- each person's sums in each category (a person's payments all carry one site)
    select
        site_code,
        category,
        person_key,
        any_value(record_key) as record_key,
        sum(paid_gbp) as spend_gbp,
        sum(refunded_gbp) as refunds_gbp
    from lines
    group by site_code, category, person_key
),

by_site as (
    -- and over all their categories
    select
        site_code,
        person_key,
        any_value(record_key) as record_key,
        sum(spend_gbp) as spend_gbp,
        sum(refunds_gbp) as refunds_gbp
    from by_site_category
    group by site_code, person_key
),

per_person as (
    -- one row per person at levels 0 (site and category) and 1 (site)
    select 0 as level, site_code, category, record_key, spend_gbp, refunds_gbp
    from by_site_category
    union all
    select 1, site_code, null, record_key, spend_gbp, refunds_gbp
    from by_site
),

cells as (
    -- levels 0 and 1 from each person's sums
    select
        level,
        site_code,
        category,
        sum(spend_gbp) as spend_gbp,
        sum(refunds_gbp) as refunds_gbp,
        sum(spend_gbp + refunds_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(spend_gbp + refunds_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(spend_gbp + refunds_gbp), 2)[2], 0) as top2,
        sum(record_key) % 256 as keys,
        count(*) filter (where refunds_gbp < 0) as refund_people,
        coalesce((max(abs(refunds_gbp), 2) filter (where refunds_gbp < 0))[1], 0) as refund_top1,
        coalesce((max(abs(refunds_gbp), 2) filter (where refunds_gbp < 0))[2], 0) as refund_top2,
        coalesce(sum(record_key) filter (where refunds_gbp < 0), 0) % 256 as refund_keys
    from per_person
    group by level, site_code, category
),

combined as (
    -- levels 2 (category) and 3 (all) from the sites' rows: each person is in one site, so the
    -- people add up, and the two largest contributions across sites are max(top1) and the macro
    -- combined_top2
    select
        level + 2 as level,
        null::varchar as site_code,
        category,
        sum(spend_gbp) as spend_gbp,
        sum(refunds_gbp) as refunds_gbp,
        sum(net_gbp) as net_gbp,
        cast(sum(people) as bigint) as people,
        max(top1) as top1,
        combined_top2(top1, top2) as top2,
        sum(keys) % 256 as keys,
        cast(sum(refund_people) as bigint) as refund_people,
        max(refund_top1) as refund_top1,
        combined_top2(refund_top1, refund_top2) as refund_top2,
        sum(refund_keys) % 256 as refund_keys
    from cells
    group by level, category
),

final as (
    select
        site_code,
        category,
        spend_gbp,
        refunds_gbp,
        net_gbp,
        people,
        top1,
        top2,
        cast(keys as integer) as mkey,
        refund_people,
        refund_top1,
        refund_top2,
        cast(refund_keys as integer) as refund_mkey,
        -- the cell keys of the people counted (the same sums: each person once in each row)
        cast(keys as integer) as people_ckey,
        cast(refund_keys as integer) as refund_people_ckey
    from (select * from cells union all select * from combined)
)

select * from final
order by site_code nulls last, category nulls last

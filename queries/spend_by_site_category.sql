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
-- Sources: spend_lines and spend_person_months (built at load), through the macro spend_in_selection
-- (queries/macros/).
with lines as (
    select
        site_code,
        category,
        person_key,
        record_key,
        amount_gbp
    from spend_in_selection($date_from, $date_to, $sites, $management)
),

by_site_category as (
    -- each person's sums in each category (a person's payments all carry one site)
    select
        site_code,
        category,
        person_key,
        any_value(record_key) as record_key,
        coalesce(sum(amount_gbp) filter (where amount_gbp > 0), 0) as spend_gbp,
        coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as refunds_gbp
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
    -- one row per person at every level of the table: site and category (level 0), site (1), category (2)
    -- and all (3). Each person has one site, so their rows by category are their rows by site and
    -- category, and their row over everything is their row by site: two sums over the rows serve four levels.
    select 0 as level, site_code, category, record_key, spend_gbp, refunds_gbp, spend_gbp + refunds_gbp as net_gbp
    from by_site_category
    union all
    select 1, site_code, null, record_key, spend_gbp, refunds_gbp, spend_gbp + refunds_gbp
    from by_site
    union all
    select 2, null, category, record_key, spend_gbp, refunds_gbp, spend_gbp + refunds_gbp
    from by_site_category
    union all
    select 3, null, null, record_key, spend_gbp, refunds_gbp, spend_gbp + refunds_gbp
    from by_site
),

final as (
    select
        site_code,
        category,
        sum(spend_gbp) as spend_gbp,
        sum(refunds_gbp) as refunds_gbp,
        sum(net_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey,
        count(*) filter (where refunds_gbp < 0) as refund_people,
        coalesce((max(abs(refunds_gbp), 2) filter (where refunds_gbp < 0))[1], 0) as refund_top1,
        coalesce((max(abs(refunds_gbp), 2) filter (where refunds_gbp < 0))[2], 0) as refund_top2,
        cast(coalesce(sum(record_key) filter (where refunds_gbp < 0), 0) % 256 as integer) as refund_mkey,
        -- the cell keys of the people counted (the same sums: one row per person at each level)
        cast(sum(record_key) % 256 as integer) as people_ckey,
        cast(coalesce(sum(record_key) filter (where refunds_gbp < 0), 0) % 256 as integer) as refund_people_ckey
    from per_person
    group by level, site_code, category
)

select * from final
order by site_code nulls last, category nulls last

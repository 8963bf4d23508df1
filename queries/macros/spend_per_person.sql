-- Each person's spending in a selection (the macro spend_in_selection's rows), summed two ways: at
-- level 0 one row per person and category, at level 1 one row per person over all their categories;
-- each row with the person's site, management option, person key and record key, their payments
-- (spend_gbp, 0 or more) and their refunds and recoveries (refunds_gbp, 0 or less). A person's
-- payments all carry one site and one management option.
-- The sums are DECIMAL(18, 2), the lines' own type (one person's spending is far below 10^16 pounds), not
-- the DECIMAL(38, 2) DuckDB types a sum as and holds in 128 bits: 64-bit values are quicker to add up and
-- sort again in the queries that read them.
-- `from_lines` false gives no rows, and reads none: a query that takes a period's per-person sums
-- from spend_person_totals instead (the period covers all the spending: the macro spend_covered)
-- passes false here, so the lines are not grouped for nothing.
-- Used as spend_per_person($date_from, $date_to, $sites, $management, from_lines) by
-- spend_by_category, and by the summary table spend_person_totals over the whole period.
create macro spend_per_person(date_from, date_to, sites, management, from_lines) as table
    with by_category as (
        select
            site_code,
            management_option,
            category,
            person_key,
            any_value(record_key) as record_key,
            cast(sum(paid_gbp) as decimal(18, 2)) as spend_gbp,
            cast(sum(refunded_gbp) as decimal(18, 2)) as refunds_gbp
        from spend_in_selection(date_from, date_to, sites, management)
        where from_lines
        group by site_code, management_option, category, person_key
    )
    select 0 as level, * from by_category
    union all
    select
        1 as level,
        site_code,
        management_option,
        null as category,
        person_key,
        any_value(record_key) as record_key,
        cast(sum(spend_gbp) as decimal(18, 2)) as spend_gbp,
        cast(sum(refunds_gbp) as decimal(18, 2)) as refunds_gbp
    from by_category
    group by site_code, management_option, person_key

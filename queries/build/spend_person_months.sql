-- One row per person, calendar month paid and category: the sum of their payments (positive lines)
-- and the sum of their refunds and recoveries (negative lines) that month, with the holder's site,
-- management option and keys. The spending queries read whole months of a period from here and only
-- its part months from spend_lines (the macro spend_in_selection), so each person's total over a
-- period is the same as from their lines, from fewer rows (at a million people, 4.4 million rows for
-- 10.4 million lines). The data contract has no £0 lines, so every row has a payment, a refund or both.
-- Stored in site and person order: the spending queries group a selection's rows by person, and
-- with each person's rows together (and each site's, for a site filter) that grouping is quicker
-- than over rows in month order (at a million people, 540 ms to 320 ms for the spending by site and category
-- over all sites), at some cost to a period's part months in spend_over_time (40 ms to 110 ms).
-- The sums are stored as DECIMAL(18, 2), the lines' own type (one person's payments in a month are far
-- below 10^16 pounds), not the DECIMAL(38, 2) a sum is typed as, which DuckDB holds in 128 bits: the
-- queries add these up again, and 64-bit sums are quicker (spend_by_category over all sites at a
-- million people, 480 ms to 445 ms).
-- Parameters: none. Sources: spend_lines (built before this).
with final as (
    select
        cast(date_trunc('month', paid_on) as date) as month,
        site_code,
        management_option,
        category,
        person_key,
        any_value(record_key) as record_key,
        cast(coalesce(sum(amount_gbp) filter (where amount_gbp > 0), 0) as decimal(18, 2)) as paid_gbp,
        cast(coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as decimal(18, 2)) as refunded_gbp
    from spend_lines
    group by cast(date_trunc('month', paid_on) as date), site_code, management_option, category, person_key
    order by site_code, person_key, category, month
)

select * from final

-- Spending by category and month or quarter paid, for the selection, with the people paid in
-- each (for disclosure control); category null is every category together. Refunds and
-- recoveries are netted here and shown apart elsewhere.
-- Parameters: $grain ('month' or 'quarter'), $sites (list or null), $date_from, $date_to (date),
-- $management (list or null).
-- Sources: spend_lines (built at load).
with lines as (
    select
        cast(date_trunc($grain, paid_on) as date) as period_start,
        category,
        person_key,
        amount_gbp
    from spend_lines
    where paid_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and ($management is null or list_contains($management, management_option))
),

final as (
    select
        period_start,
        category,
        sum(amount_gbp) as net_gbp,
        count(distinct person_key) as people
    from lines
    group by grouping sets ((period_start, category), (period_start))
)

select * from final
order by period_start, category nulls last

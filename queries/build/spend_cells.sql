-- Spending by month and by quarter paid, site, management option and category (category null: every
-- category together), over the people paid in each: net spending, the people paid, the two largest
-- absolute per-person net sums (0 where there are fewer) and the sum of the people's record keys.
-- A person's payments all carry one site and one management option, so the figures for any sites and
-- options are these rows combined: sums and counts add, and the two largest of the union are the
-- largest top1 and the larger of the largest top2 and the second largest top1. spend_over_time reads
-- the periods wholly inside a selection from here, and only part periods from the lines.
-- Parameters: none. Sources: spend_lines (built before this).
with lines as (
    select
        'month' as grain,
        cast(date_trunc('month', paid_on) as date) as period_start,
        site_code,
        management_option,
        category,
        person_key,
        record_key,
        amount_gbp
    from spend_lines
    union all
    select
        'quarter' as grain,
        cast(date_trunc('quarter', paid_on) as date) as period_start,
        site_code,
        management_option,
        category,
        person_key,
        record_key,
        amount_gbp
    from spend_lines
),

per_person as (
    select
        grouping(category) as level,
        grain,
        period_start,
        site_code,
        management_option,
        category,
        person_key,
        any_value(record_key) as record_key,
        sum(amount_gbp) as net_gbp
    from lines
    group by grouping sets (
        (grain, period_start, site_code, management_option, category, person_key),
        (grain, period_start, site_code, management_option, person_key)
    )
),

final as (
    select
        grain,
        period_start,
        site_code,
        management_option,
        category,
        sum(net_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) as bigint) as keys
    from per_person
    group by level, grain, period_start, site_code, management_option, category
    order by grain, period_start, site_code, management_option, category
)

select * from final

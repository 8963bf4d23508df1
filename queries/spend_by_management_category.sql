-- Spending paid in the period by management option and category, with each option's total
-- (category null), and what disclosure control needs over the people behind each row (per-person
-- net sums within the row): `people`, `top1` and `top2` (the two largest absolute contributions, 0
-- where there are fewer) and `mkey` (the sum of their record keys modulo 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: spend_lines and spend_person_months (built at load), through the macro spend_in_selection
-- (queries/macros/).
with lines as (
    select
        management_option,
        category,
        person_key,
        record_key,
        paid_gbp + refunded_gbp as net_gbp
    from spend_in_selection($date_from, $date_to, $sites, $management)
),

by_category as (
    -- each person's net sum in each category (a person's payments all carry one management option)
    select
        management_option,
        category,
        person_key,
        any_value(record_key) as record_key,
        sum(net_gbp) as net_gbp
    from lines
    group by management_option, category, person_key
),

per_person as (
    -- one row per person by option and category (level 0), and by option over all their categories (1)
    select 0 as level, management_option, category, record_key, net_gbp
    from by_category
    union all
    select 1, management_option, null, any_value(record_key), sum(net_gbp)
    from by_category
    group by management_option, person_key
),

final as (
    select
        management_option,
        category,
        sum(net_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey
    from per_person
    group by level, management_option, category
)

select * from final
order by management_option, category nulls last

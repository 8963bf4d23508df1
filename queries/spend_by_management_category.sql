-- Spending paid in the period by management option and category, with each option's total
-- (category null) and the people behind each row (for disclosure control).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: spend_lines (built at load).
with per_person as (
    select
        management_option,
        category,
        person_key,
        sum(amount_gbp) as net_gbp
    from spend_lines
    where paid_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and ($management is null or list_contains($management, management_option))
    group by management_option, category, person_key
),

final as (
    select
        management_option,
        category,
        sum(net_gbp) as net_gbp,
        count(distinct person_key) as people
    from per_person
    group by grouping sets ((management_option, category), (management_option))
)

select * from final
order by management_option, category nulls last

-- One row per spending line, with the holder's site and management option and a whole-number
-- person key, in payment date order: what every spending query reads, so none of them joins
-- people or touches the free-text description (never displayed or exported).
-- Parameters: none. Sources: spend, people.
with keyed_people as (
    select
        person_id,
        cast(row_number() over (order by person_id) as integer) as person_key,
        site_code,
        management_option
    from people
),

final as (
    select
        p.person_key,
        p.site_code,
        p.management_option,
        s.category,
        s.paid_on,
        s.amount_gbp
    from spend as s
    inner join keyed_people as p on p.person_id = s.person_id
    order by s.paid_on, p.person_key
)

select * from final

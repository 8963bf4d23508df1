-- One row per spending line, with the holder's site and management option and whole-number
-- person key, in payment date order: what every spending query reads, so none of them joins
-- people or touches the free-text description (never displayed or exported).
-- Parameters: none. Sources: spend, people, person_keys (built before this).
with final as (
    select
        k.person_key,
        k.record_key,
        p.site_code,
        p.management_option,
        s.category,
        s.paid_on,
        s.amount_gbp
    from spend as s
    inner join people as p on p.person_id = s.person_id
    inner join person_keys as k on k.person_id = s.person_id
    order by s.paid_on, k.person_key
)

select * from final

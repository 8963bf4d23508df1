-- One row per person: a whole-number key for joins over large tables.
-- Parameters: none. Sources: people.
with final as (
    select
        person_id,
        cast(row_number() over (order by person_id) as integer) as person_key
    from people
)

select * from final

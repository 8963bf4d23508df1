-- Every person-level row of the warehouse by its id, with its table, the person's site, the record
-- key a count of it is keyed by (a person's own; a spending line or an admission its holder's) and,
-- for people, their outcome: what comparing an upload with the published version reads (rows added
-- and removed per table and site, people whose outcome changed).
-- Parameters: none. Sources: people, spend, admissions, person_keys.
with people_rows as (
    select
        'people' as tbl,
        p.person_id as row_id,
        p.site_code,
        k.record_key,
        p.outcome
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
),

spend_rows as (
    select
        'spend' as tbl,
        s.spend_id as row_id,
        p.site_code,
        k.record_key,
        cast(null as varchar) as outcome
    from spend as s
    inner join people as p on p.person_id = s.person_id
    inner join person_keys as k on k.person_id = s.person_id
),

admission_rows as (
    select
        'admissions' as tbl,
        a.admission_id as row_id,
        p.site_code,
        k.record_key,
        cast(null as varchar) as outcome
    from admissions as a
    inner join people as p on p.person_id = a.person_id
    inner join person_keys as k on k.person_id = a.person_id
),

final as (
    select * from people_rows
    union all
    select * from spend_rows
    union all
    select * from admission_rows
)

select * from final
order by tbl, row_id

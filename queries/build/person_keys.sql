-- One row per person: a whole-number key for joins over large tables, and the record key (0-255)
-- of cell key perturbation: a keyed hash of the person's id with the secret perturbation key, so
-- nobody without the key can work it out. md5_number is the MD5 digest read as a little-endian
-- 128-bit number, so the record key is the digest's first byte.
-- Parameters: $perturbation_key (text; bound, never stored). Sources: people.
with final as (
    select
        person_id,
        cast(row_number() over (order by person_id) as integer) as person_key,
        cast(md5_number($perturbation_key || ':' || person_id) % 256 as integer) as record_key
    from people
)

select * from final

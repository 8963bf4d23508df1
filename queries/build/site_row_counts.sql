-- Rows per site in each person-level table, made once at build because the Data page shows them
-- for the whole extract (no filter): people (with the sum of their record keys), spending lines
-- (each counted with its holder's record key) and admissions (each with its own), and each count's
-- cell key mod 256; every site, 0 where a table has none of its rows.
-- Parameters: none. Sources: sites, people_keyed, spend_lines, admission_lines (built before this).
with people_rows as (
    select
        site_code,
        count(*) as people,
        sum(record_key) % 256 as people_ckey
    from people_keyed
    group by site_code
),

spend_rows as (
    select
        site_code,
        count(*) as spend,
        sum(record_key) % 256 as spend_ckey
    from spend_lines
    group by site_code
),

admission_rows as (
    select
        site_code,
        count(*) as admissions,
        sum(record_key) % 256 as admissions_ckey
    from admission_lines
    group by site_code
),

final as (
    select
        s.site_code,
        coalesce(pr.people, 0) as people,
        coalesce(pr.people_ckey, 0) as people_ckey,
        coalesce(sr.spend, 0) as spend,
        coalesce(sr.spend_ckey, 0) as spend_ckey,
        coalesce(ar.admissions, 0) as admissions,
        coalesce(ar.admissions_ckey, 0) as admissions_ckey
    from sites as s
    left join people_rows as pr on pr.site_code = s.site_code
    left join spend_rows as sr on sr.site_code = s.site_code
    left join admission_rows as ar on ar.site_code = s.site_code
)

select * from final

-- Rows per site in each person-level table of the warehouse, with each count's cell key: people
-- (the sum of their record keys), spending lines and admissions (each line counted with its
-- holder's record key, each admission with its own), mod 256. For the Data page's "rows per table
-- per site", shown as counts are (disclosure.count).
-- Parameters: none. Sources: people, person_keys, spend_lines, admission_lines, sites.
with people_rows as (
    select
        p.site_code,
        count(*) as people,
        sum(k.record_key) % 256 as people_ckey
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
    group by p.site_code
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
        s.site_name,
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
order by site_code

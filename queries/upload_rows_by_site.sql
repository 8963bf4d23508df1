-- Each row of the person-level tables of an extract that has been read but not built (its
-- raw_<table> copies: every value as text, _row the row as the person's file numbers it, the header
-- being row 1), with the site it belongs to and its record key (0-255) for cell key perturbation, as
-- the build keys them: people and spending lines by the person's id, admissions by the admission's
-- id. A spending line or admission takes its person's site from the people file; a person given in
-- more than one row takes the first row's site; one whose person is not in the people file, or
-- whose site is blank, has no site (null). The site's name is the first one the sites file gives
-- it (null when the sites file does not list it). For the validity of an upload by site
-- (phb.quality).
-- Parameters: $perturbation_key (text; bound, never stored). Sources: raw_sites, raw_people,
-- raw_spend, raw_admissions.
with site_names as (
    select
        site_code,
        arg_min(site_name, _row) as site_name
    from raw_sites
    where site_code is not null
    group by site_code
),

person_sites as (
    select
        person_id,
        arg_min(site_code, _row) as site_code
    from raw_people
    where person_id is not null
    group by person_id
),

keyed as (
    select
        'people' as tbl,
        _row,
        site_code,
        person_id as keyed_on
    from raw_people

    union all

    select
        'spend' as tbl,
        s._row,
        ps.site_code,
        s.person_id as keyed_on
    from raw_spend as s
    left join person_sites as ps on ps.person_id = s.person_id

    union all

    select
        'admissions' as tbl,
        a._row,
        ps.site_code,
        a.admission_id as keyed_on
    from raw_admissions as a
    left join person_sites as ps on ps.person_id = a.person_id
),

final as (
    select
        k.tbl,
        k._row,
        k.site_code,
        n.site_name,
        coalesce(cast(md5_number($perturbation_key || ':' || k.keyed_on) % 256 as integer), 0) as record_key
    from keyed as k
    left join site_names as n on n.site_code = k.site_code
)

select * from final
order by tbl, _row

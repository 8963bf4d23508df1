-- Rows per site in each person-level table of the warehouse, with each count's cell key: people
-- (the sum of their record keys), spending lines (each counted with its holder's record key) and
-- admissions (each with its own), mod 256. For the Data page's "rows per table per site", shown as
-- counts are (disclosure.count). The counts are made at build (build/site_row_counts.sql): they do
-- not depend on any filter.
-- Parameters: none. Sources: sites, site_row_counts.
with final as (
    select
        s.site_code,
        s.site_name,
        c.people,
        c.people_ckey,
        c.spend,
        c.spend_ckey,
        c.admissions,
        c.admissions_ckey
    from sites as s
    inner join site_row_counts as c on c.site_code = s.site_code
)

select * from final
order by site_code

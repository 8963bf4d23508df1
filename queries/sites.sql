-- One row per pilot site, for the site filter and the site labels.
-- Parameters: none. Sources: sites.
with final as (
    select
        site_code,
        site_name,
        region,
        go_live,
        pilot_end
    from sites
)

select * from final
order by site_code

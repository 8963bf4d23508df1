-- Per site, how often a column is filled where the contract expects a value but lets it be blank
-- (measure 'filled') and how often a placeholder or default value stands in for a real one
-- (measure 'default'), as counts of rows with their cell keys: hits (rows filled, or holding the
-- default) out of base (the rows the column applies to). Keys as in monthly_volume: a person's own,
-- a spending line its holder's, an admission its own. (A blank discharged_on means still in hospital,
-- so it is not counted as a gap.)
-- Made at build (build/field_checks.sql): it does not depend on any filter.
-- Parameters: none. Sources: field_checks.
with final as (
    select
        site_code,
        tbl,
        field,
        measure,
        hits,
        hits_ckey,
        base,
        base_ckey
    from field_checks
)

select * from final
order by site_code, tbl, measure, field

-- Per site, how often a column is filled where the contract expects a value but lets it be blank
-- (measure 'filled') and how often a placeholder or default value stands in for a real one
-- (measure 'default'), as counts of rows with their cell keys: hits (rows filled, or holding the
-- default) out of base (the rows the column applies to). Keys as in monthly_volume: a person's own,
-- a spending line its holder's, an admission its own. (A blank discharged_on means still in hospital,
-- so it is not counted as a gap.)
-- Made once at build: the Data page shows it for the whole extract, with no filter.
-- Parameters: none. Sources: people_keyed, admission_lines, spend_lines (built before this).
with checks as (
    select site_code, 'people' as tbl, 'imd_quintile' as field, 'filled' as measure,
        imd_quintile is not null as hit, record_key
    from people_keyed
    union all
    select site_code, 'people', 'offered_on', 'filled', offered_on is not null, record_key
    from people_keyed where arm = 'phb'
    union all
    select site_code, 'admissions', 'cost_gbp', 'filled', cost_gbp is not null, record_key
    from admission_lines
    union all
    select site_code, 'people', 'sex', 'default', sex = 'not_stated', record_key
    from people_keyed
    union all
    select site_code, 'people', 'ethnicity', 'default', ethnicity in ('not_stated', 'other'), record_key
    from people_keyed
    union all
    select site_code, 'people', 'imd_quintile', 'default', imd_quintile is null, record_key
    from people_keyed
    union all
    select site_code, 'people', 'primary_need', 'default', primary_need = 'other', record_key
    from people_keyed
    union all
    select site_code, 'spend', 'category', 'default', category = 'other', record_key
    from spend_lines
    union all
    select site_code, 'admissions', 'admission_method', 'default', admission_method = 'other', record_key
    from admission_lines
),

final as (
    select
        site_code,
        tbl,
        field,
        measure,
        count(*) filter (where hit) as hits,
        cast(coalesce(sum(record_key) filter (where hit), 0) % 256 as integer) as hits_ckey,
        count(*) as base,
        cast(sum(record_key) % 256 as integer) as base_ckey
    from checks
    group by site_code, tbl, field, measure
)

select * from final

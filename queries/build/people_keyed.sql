-- Each person's row of the extract (the contract's columns) with their keys alongside (person_keys:
-- the whole-number key for joins and the record key of cell key perturbation), stored in site
-- order. Made once at build so the queries over people (site summaries, the pathway, conversion,
-- budgets by management option, holders' spending) read one table rather than joining every person
-- to their keys on each run, and a query for some sites reads only their part of the table.
-- Parameters: none. Sources: people, person_keys (built before this).
with final as (
    select
        p.person_id,
        p.site_code,
        p.arm,
        p.age_band,
        p.sex,
        p.ethnicity,
        p.imd_quintile,
        p.primary_need,
        p.referred_on,
        p.offered_on,
        p.plan_agreed_on,
        p.outcome,
        p.budget_start,
        p.budget_end,
        p.management_option,
        p.annual_budget_gbp,
        p.index_date,
        k.person_key,
        k.record_key
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
)

select * from final
order by site_code, person_key

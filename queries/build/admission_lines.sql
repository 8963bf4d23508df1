-- One row per hospital admission with the person's site, group (budget holders, comparison group
-- or other people on the pathway), management option, index date and whole-number key; bed days
-- (an open stay counts to the end of the data period) and the cost given in the extract (blank
-- where the extract has none: pages cost those at the unit costs they are given), and the
-- admission's record key (0-255) for cell key perturbation: a keyed hash of the admission id, as
-- person_keys does for people.
-- The person's record key rides along as person_record_key, for counts of people.
-- Parameters: $period_end (date), $perturbation_key (text; bound, never stored).
-- Sources: admissions, people, person_keys (built before this).
with final as (
    select
        k.person_key,
        p.site_code,
        case
            when p.outcome = 'budget_in_place' then 'budget_holders'
            when p.arm = 'comparison' then 'comparison'
            else 'other_pathway'
        end as grp,
        p.management_option,
        p.index_date,
        a.admission_method,
        a.setting,
        a.admitted_on,
        date_diff('day', a.admitted_on, coalesce(a.discharged_on, $period_end::date)) as bed_days,
        a.cost_gbp,
        k.record_key as person_record_key,
        cast(md5_number($perturbation_key || ':' || a.admission_id) % 256 as integer) as record_key
    from admissions as a
    inner join people as p on p.person_id = a.person_id
    inner join person_keys as k on k.person_id = a.person_id
    order by a.admitted_on, k.person_key
)

select * from final

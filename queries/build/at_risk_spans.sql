-- One row per person with time at risk of an emergency admission, for the SPC rates: a budget
-- holder from budget_start to the day before budget_end (a budget ending on a day is not in place
-- that day), the comparison group (people in the comparison arm without a budget) from their index
-- date. ends_before is blank where the time at risk runs to the end of any period chosen. With the
-- person's whole-number key, record key, site and management option, so the queries over it need
-- no join.
-- Sources: people, person_keys (built before this).
with spans as (
    select
        person_id,
        site_code,
        'budget_holders' as grp,
        management_option,
        budget_start as starts_on,
        budget_end as ends_before
    from people
    where outcome = 'budget_in_place'
    union all
    select
        person_id,
        site_code,
        'comparison' as grp,
        management_option,
        index_date as starts_on,
        cast(null as date) as ends_before
    from people
    where arm = 'comparison' and outcome <> 'budget_in_place' and index_date is not null
),

final as (
    select
        k.person_key,
        k.record_key,
        s.site_code,
        s.grp,
        s.management_option,
        s.starts_on,
        s.ends_before
    from spans as s
    inner join person_keys as k on k.person_id = s.person_id
    order by s.site_code, s.grp, k.person_key
)

select * from final

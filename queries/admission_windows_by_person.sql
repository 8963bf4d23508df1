-- One row per person in the admissions analysis whose index date falls in the period: group,
-- site, and emergency admissions and person-years in the 12 months before and after the index
-- date, and per window the sum of the record keys of the admissions counted (for the cell keys of
-- the model's four group-and-window counts). For the rate-ratio model only: never shown person by
-- person.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: person_windows (built at load).
with final as (
    select
        person_id,
        site_code,
        grp,
        emergency_pre,
        emergency_post,
        emergency_pre_keys,
        emergency_post_keys,
        years_pre,
        years_post
    from person_windows
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
)

select * from final
order by person_id

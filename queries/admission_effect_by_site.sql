-- The budget effect model's summary by site and group: for the people in the admissions analysis
-- whose index date falls in the period and who have time in both the year before and the year
-- after it, their number, their emergency admissions and person-years per window (with the cell
-- key of each window's admissions, from their record keys), and the sums of squares and products of
-- each person's two counts and two person-years. From these the model's estimate and its errors
-- clustered by person are worked out exactly (phb.admissions.did_effect), without a row per person
-- leaving the warehouse. Sums add across sites, so all selected sites is the sum of the site rows.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: person_windows (built at load).
with person as (
    select
        site_code,
        grp,
        cast(emergency_pre as double) as y0,
        cast(emergency_post as double) as y1,
        years_pre as e0,
        years_post as e1,
        emergency_pre_keys,
        emergency_post_keys
    from person_windows
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
        and years_pre > 0
        and years_post > 0
),

final as (
    select
        site_code,
        grp,
        count(*) as people,
        cast(sum(y0) as bigint) as emergency_pre,
        cast(sum(y1) as bigint) as emergency_post,
        cast(sum(emergency_pre_keys) % 256 as integer) as emergency_pre_ckey,
        cast(sum(emergency_post_keys) % 256 as integer) as emergency_post_ckey,
        sum(e0) as years_pre,
        sum(e1) as years_post,
        sum(y0 * y0) as y0_y0,
        sum(y1 * y1) as y1_y1,
        sum(y0 * y1) as y0_y1,
        sum(e0 * e0) as e0_e0,
        sum(e1 * e1) as e1_e1,
        sum(e0 * e1) as e0_e1,
        sum(y0 * e0) as y0_e0,
        sum(y1 * e1) as y1_e1,
        sum(y0 * e1) as y0_e1,
        sum(y1 * e0) as y1_e0
    from person
    group by site_code, grp
)

select * from final
order by site_code, grp

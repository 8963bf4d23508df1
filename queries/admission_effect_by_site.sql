-- The budget effect model's summary by site and group: for the people in the admissions analysis
-- whose index date falls in the period and who have time in both the year before and the year
-- after it, their number, their emergency admissions and person-years per window (with the cell
-- key of each window's admissions, from their record keys), and the sums of squares and products of
-- each person's two counts and two person-years (summed as whole days, then divided by 365.25, so the
-- sums are exact and the same on every run). From these the model's estimate and its errors
-- clustered by person are worked out exactly (phb.admissions.did_effect), without a row per person
-- leaving the warehouse. Sums add across sites, so all selected sites is the sum of the site rows.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: person_windows (built at load).
with person as (
    select
        site_code,
        grp,
        cast(emergency_pre as bigint) as y0,
        cast(emergency_post as bigint) as y1,
        cast(days_pre as bigint) as d0,
        cast(days_post as bigint) as d1,
        emergency_pre_keys,
        emergency_post_keys
    from person_windows
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
        and days_pre > 0
        and days_post > 0
),

-- whole-number sums (counts and days), exact whatever order the rows are added in, so the model's figures are
-- the same on every run; each is turned into person-years (days / 365.25) once, below
sums as (
    select
        site_code,
        grp,
        count(*) as people,
        sum(y0) as emergency_pre,
        sum(y1) as emergency_post,
        cast(sum(emergency_pre_keys) % 256 as integer) as emergency_pre_ckey,
        cast(sum(emergency_post_keys) % 256 as integer) as emergency_post_ckey,
        sum(d0) as d0,
        sum(d1) as d1,
        sum(y0 * y0) as y0_y0,
        sum(y1 * y1) as y1_y1,
        sum(y0 * y1) as y0_y1,
        sum(d0 * d0) as d0_d0,
        sum(d1 * d1) as d1_d1,
        sum(d0 * d1) as d0_d1,
        sum(y0 * d0) as y0_d0,
        sum(y1 * d1) as y1_d1,
        sum(y0 * d1) as y0_d1,
        sum(y1 * d0) as y1_d0
    from person
    group by site_code, grp
),

final as (
    select
        site_code,
        grp,
        people,
        cast(emergency_pre as bigint) as emergency_pre,
        cast(emergency_post as bigint) as emergency_post,
        emergency_pre_ckey,
        emergency_post_ckey,
        cast(d0 as double) / 365.25 as years_pre,
        cast(d1 as double) / 365.25 as years_post,
        cast(y0_y0 as double) as y0_y0,
        cast(y1_y1 as double) as y1_y1,
        cast(y0_y1 as double) as y0_y1,
        cast(d0_d0 as double) / (365.25 * 365.25) as e0_e0,
        cast(d1_d1 as double) / (365.25 * 365.25) as e1_e1,
        cast(d0_d1 as double) / (365.25 * 365.25) as e0_e1,
        cast(y0_d0 as double) / 365.25 as y0_e0,
        cast(y1_d1 as double) / 365.25 as y1_e1,
        cast(y0_d1 as double) / 365.25 as y0_e1,
        cast(y1_d0 as double) / 365.25 as y1_e0
    from sums
)

select * from final
order by site_code, grp

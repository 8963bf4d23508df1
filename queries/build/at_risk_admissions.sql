-- One row per emergency admission that falls in its person's time at risk (at_risk_spans): the
-- admissions the SPC rates count, whatever the period chosen (a period only cuts the time at risk
-- at its ends, so the queries keep the admissions in the period). With the person's site, group,
-- management option, keys and the stay's bed days.
-- Sources: admission_lines, at_risk_spans (built before this).
with final as (
    select
        a.person_key,
        a.person_record_key,
        a.record_key,
        r.site_code,
        r.grp,
        r.management_option,
        a.admitted_on,
        a.bed_days
    from admission_lines as a
    inner join at_risk_spans as r on r.person_key = a.person_key
    where a.admission_method = 'emergency'
        and a.admitted_on >= r.starts_on
        and (r.ends_before is null or a.admitted_on < r.ends_before)
    order by a.admitted_on, a.person_key
)

select * from final

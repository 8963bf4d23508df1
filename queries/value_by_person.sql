-- One row per person in the value-for-money analysis (budget holders and the comparison group) whose
-- index date falls in the period: site, group, management option, record key, person-years in the
-- 12 months before and after the index date (as person_windows counts them), and per window:
-- hospital cost of all admissions admitted in it (the extract's cost where given, else bed days
-- times the unit cost of the setting), mental health bed days, and general acute cost (for the
-- break-even at other bed-day costs); and money spent from the budget in the 12 months from the
-- index date (net of refunds; 0 for the comparison group). For the bootstrap and for working out
-- disclosure-controlled totals only: never shown person by person.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only), $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: value_people (built at load: each person's figures that depend on neither a filter nor the
-- unit costs). Stays without a cost given are costed here at the setting's unit cost (stay_cost).
-- Costs, bed days and money spent are returned as double (as a pandas frame would hold them anyway), so the
-- rows can be fetched as Arrow columns without a decimal in them (phb.queries.run_query_coded), whether the
-- unit costs are bound as whole numbers or not.
-- Rows are not sorted here: value.load puts them in person_key order (value.in_person_order), which on DuckDB
-- they already are, as value_people is stored in that order. Sorting them in the query doubled the fetch at a
-- million people (760,641 rows as Arrow columns: 86 to 102 ms sorted, 43 ms not).
with final as (
    select
        person_key,
        record_key,
        site_code,
        grp,
        management_option,
        years_pre,
        years_post,
        admissions_pre,
        admissions_post,
        cast(
            given_cost_pre
            + stay_cost(null, mh_uncosted_days_pre, 'mental_health', $unit_cost_mental_health, $unit_cost_general_acute)
            + stay_cost(null, acute_uncosted_days_pre, 'general_acute', $unit_cost_mental_health, $unit_cost_general_acute)
        as double) as cost_pre,
        cast(
            given_cost_post
            + stay_cost(null, mh_uncosted_days_post, 'mental_health', $unit_cost_mental_health, $unit_cost_general_acute)
            + stay_cost(null, acute_uncosted_days_post, 'general_acute', $unit_cost_mental_health, $unit_cost_general_acute)
        as double) as cost_post,
        cast(mh_days_pre as double) as mh_days_pre,
        cast(mh_days_post as double) as mh_days_post,
        cast(
            acute_given_cost_pre
            + stay_cost(null, acute_uncosted_days_pre, 'general_acute', $unit_cost_mental_health, $unit_cost_general_acute)
        as double) as acute_cost_pre,
        cast(
            acute_given_cost_post
            + stay_cost(null, acute_uncosted_days_post, 'general_acute', $unit_cost_mental_health, $unit_cost_general_acute)
        as double) as acute_cost_post,
        cast(spend_post as double) as spend_post
    from value_people
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
)

select * from final

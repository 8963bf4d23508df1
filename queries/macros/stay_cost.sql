-- The cost of a hospital stay: the extract's cost where it gives one, else bed days times the unit
-- cost of the setting (mental health or general acute).
-- Used as stay_cost(cost_gbp, bed_days, setting, $unit_cost_mental_health, $unit_cost_general_acute).
create macro stay_cost(given_cost, days, in_setting, mental_health_rate, general_acute_rate) as (
    coalesce(
        given_cost,
        days * case in_setting
            when 'mental_health' then mental_health_rate
            else general_acute_rate
        end
    )
)

DROP TABLE auth_budget;

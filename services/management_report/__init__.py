"""The management report (``claimflow report``): claims by channel, category, department and outcome;
deadline compliance per target and department with the time attributed to each department; time to
decision and to closure; satisfaction; the top recurring causes with their weekly trends; repeat
customers. ``gather`` reads the rows, ``figures`` turns them into tables (pure), ``plots`` draws them,
``render`` writes HTML, CSV or Markdown."""

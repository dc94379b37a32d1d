"""Closing a claim: the customer's answer to the satisfaction survey (or their silence), reopening
on a low score or a dispute, the closing report, and the archive.

``policy`` reads the policy file's ``closing:`` section; ``survey_token`` signs survey links;
``satisfaction`` decides, as pure functions, what an answer or a silence does to a claim; ``steps``
applies those steps to the database (history, report, notice, department message); ``replies``
finds customers' replies merged into waiting claims; ``closing`` holds the entry points (the survey
answer, the sweeps); ``dossier`` and ``report`` make the closing report, ``fetch`` serves it;
``commands`` are ``claimflow claims report|close-unanswered|archive``."""

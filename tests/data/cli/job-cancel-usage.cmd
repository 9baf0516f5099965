job-cancel

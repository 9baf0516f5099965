job-cancel nosuch

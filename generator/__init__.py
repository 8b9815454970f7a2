"""guidegen: personalised race-recovery guides from Markdown modules."""

__version__ = "0.1.0"

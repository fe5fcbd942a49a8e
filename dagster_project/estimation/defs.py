from dagster import Definitions

from dagster_project.estimation.assets import table03_descriptives, table04_benchmark
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(assets=[table03_descriptives, table04_benchmark], resources=SHARED_RESOURCES)

"""What each alias module of the original SDK provides: ``{module: {name: "module:attribute"}}``.

Names of cloud-only features resolve to refusing stand-ins (:mod:`.cloud`): importing them
works, using them raises an error that says what to do instead.
"""

from __future__ import annotations

_SDK = "runhistory.sdk"
_CLOUD = "runhistory.compat.azureml.cloud"
_RUNCONFIG = {
    "RunConfiguration": f"{_SDK}.run_configuration:RunConfiguration",
    "DockerConfiguration": f"{_SDK}.distributed:DockerConfiguration",
    "MpiConfiguration": f"{_SDK}.distributed:MpiConfiguration",
    "PyTorchConfiguration": f"{_SDK}.distributed:PyTorchConfiguration",
    "TensorflowConfiguration": f"{_SDK}.distributed:TensorflowConfiguration",
    "DEFAULT_CPU_IMAGE": f"{_SDK}.distributed:DEFAULT_CPU_IMAGE",
    "DEFAULT_GPU_IMAGE": f"{_SDK}.distributed:DEFAULT_GPU_IMAGE",
    "CondaDependencies": f"{_SDK}.conda_dependencies:CondaDependencies",
    "HistoryConfiguration": f"{_SDK}.run_configuration:HistoryConfiguration",
}
_CORE = {
    "VERSION": "runhistory:__version__",
    "__version__": "runhistory:__version__",
    "Workspace": f"{_SDK}.workspace:Workspace",
    "Experiment": f"{_SDK}.experiment:Experiment",
    "Run": f"{_SDK}.run:Run",
    "ScriptRun": f"{_SDK}.run:Run",
    "Model": f"{_SDK}.model:Model",
    "ScriptRunConfig": f"{_SDK}.script_run_config:ScriptRunConfig",
    "RunConfiguration": f"{_SDK}.run_configuration:RunConfiguration",
    "Environment": f"{_SDK}.environment:Environment",
    "ComputeTarget": f"{_SDK}.compute_target:ComputeTarget",
    "Keyvault": f"{_SDK}.keyvault:Keyvault",
    "Dataset": f"{_CLOUD}:Dataset",
    "Datastore": f"{_CLOUD}:Datastore",
    "Webservice": f"{_CLOUD}:Webservice",
}

_HD = "runhistory.hyperdrive"
_EXPRESSIONS = {
    name: f"{_HD}.parameter_expressions:{name}"
    for name in (
        "choice",
        "randint",
        "uniform",
        "quniform",
        "loguniform",
        "qloguniform",
        "normal",
        "qnormal",
        "lognormal",
        "qlognormal",
    )
}
_SAMPLINGS = {
    name: f"{_HD}.sampling:{name}"
    for name in (
        "HyperParameterSampling",
        "RandomParameterSampling",
        "GridParameterSampling",
        "BayesianParameterSampling",
    )
}
_POLICIES = {
    name: f"{_HD}.policy:{name}"
    for name in (
        "EarlyTerminationPolicy",
        "BanditPolicy",
        "MedianStoppingPolicy",
        "TruncationSelectionPolicy",
        "NoTerminationPolicy",
    )
}
_HD_RUNCONFIG = {
    "HyperDriveConfig": f"{_HD}.config:HyperDriveConfig",
    "PrimaryMetricGoal": f"{_HD}.config:PrimaryMetricGoal",
}
_HD_RUN = {"HyperDriveRun": f"{_HD}.run:HyperDriveRun"}
_COMPUTE = {
    name: f"{_SDK}.compute_target:{name}"
    for name in ("ComputeTarget", "AmlCompute", "ComputeInstance", "RemoteCompute",
                 "ComputeTargetException")
}  # fmt: skip

ALIASES: dict[str, dict[str, str]] = {
    "azureml": {},
    "azureml.core": _CORE,
    "azureml.core.workspace": {"Workspace": f"{_SDK}.workspace:Workspace"},
    "azureml.core.experiment": {"Experiment": f"{_SDK}.experiment:Experiment"},
    "azureml.core.run": {"Run": f"{_SDK}.run:Run", "_OfflineRun": f"{_CLOUD}:_OfflineRun"},
    "azureml.core.script_run": {"ScriptRun": f"{_SDK}.run:Run"},
    "azureml.core.model": {
        "Model": f"{_SDK}.model:Model",
        "InferenceConfig": f"{_CLOUD}:InferenceConfig",
    },
    "azureml.core.script_run_config": {
        "ScriptRunConfig": f"{_SDK}.script_run_config:ScriptRunConfig"
    },
    "azureml.core.runconfig": _RUNCONFIG,
    "azureml.core.compute": _COMPUTE,
    "azureml.core.compute_target": {
        "ComputeTarget": f"{_SDK}.compute_target:ComputeTarget",
        "ComputeTargetException": f"{_SDK}.compute_target:ComputeTargetException",
    },
    "azureml.core.environment": {
        "Environment": f"{_SDK}.environment:Environment",
        "CondaDependencies": f"{_SDK}.conda_dependencies:CondaDependencies",
        "PythonSection": f"{_SDK}.environment:PythonSection",
        "DockerSection": f"{_SDK}.environment:DockerSection",
    },
    "azureml.core.conda_dependencies": {
        "CondaDependencies": f"{_SDK}.conda_dependencies:CondaDependencies"
    },
    "azureml.core.keyvault": {"Keyvault": f"{_SDK}.keyvault:Keyvault"},
    "azureml.core.dataset": {"Dataset": f"{_CLOUD}:Dataset"},
    "azureml.core.datastore": {"Datastore": f"{_CLOUD}:Datastore"},
    "azureml.core.webservice": {
        "Webservice": f"{_CLOUD}:Webservice",
        "AciWebservice": f"{_CLOUD}:AciWebservice",
        "AksWebservice": f"{_CLOUD}:AksWebservice",
        "LocalWebservice": f"{_CLOUD}:LocalWebservice",
    },
    "azureml.core.authentication": {
        "InteractiveLoginAuthentication": f"{_CLOUD}:LocalAuthentication",
        "ServicePrincipalAuthentication": f"{_CLOUD}:LocalAuthentication",
        "AzureCliAuthentication": f"{_CLOUD}:LocalAuthentication",
        "MsiAuthentication": f"{_CLOUD}:LocalAuthentication",
        "TokenAuthentication": f"{_CLOUD}:TokenAuthentication",
        "Audience": f"{_CLOUD}:Audience",
    },
    "azureml.widgets": {"RunDetails": "runhistory.widgets:RunDetails"},
    "azureml.exceptions": {
        "ActivityFailedException": "runhistory.errors:ActivityFailedException",
        "UserErrorException": "runhistory.errors:ValidationError",
        "AzureMLException": "runhistory.errors:RunhistoryError",
        "WorkspaceException": "runhistory.errors:NotFoundError",
        "ExperimentExecutionException": "runhistory.errors:RunhistoryError",
        "ComputeTargetException": f"{_SDK}.compute_target:ComputeTargetException",
    },
    "azureml.telemetry": {
        "set_diagnostics_collection": "runhistory.compat.azureml.telemetry:"
        "set_diagnostics_collection",
        "get_diagnostics_collection_info": "runhistory.compat.azureml.telemetry:"
        "get_diagnostics_collection_info",
        "UserErrorException": "runhistory.errors:ValidationError",
    },
    "azureml.tensorboard": {
        "export_to_tensorboard": "runhistory.integrations.tensorboard:export_to_tensorboard",
        "Tensorboard": "runhistory.integrations.tensorboard:Tensorboard",
    },
    "azureml.train": {},
    "azureml.train.hyperdrive": {
        **_EXPRESSIONS,
        **_SAMPLINGS,
        **_POLICIES,
        **_HD_RUNCONFIG,
        **_HD_RUN,
    },
    "azureml.train.hyperdrive.parameter_expressions": _EXPRESSIONS,
    "azureml.train.hyperdrive.sampling": _SAMPLINGS,
    "azureml.train.hyperdrive.policy": _POLICIES,
    "azureml.train.hyperdrive.runconfig": _HD_RUNCONFIG,
    "azureml.train.hyperdrive.run": {
        **_HD_RUN,
        "PrimaryMetricGoal": f"{_HD}.config:PrimaryMetricGoal",
    },
    "azureml.train.estimator": {"Estimator": "runhistory.train.estimator:Estimator"},
    "azureml.train.sklearn": {"SKLearn": "runhistory.train.estimator:SKLearn"},
    "azureml.tensorboard.export": {
        "export_to_tensorboard": "runhistory.integrations.tensorboard:export_to_tensorboard",
    },
}

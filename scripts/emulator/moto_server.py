"""moto's server on a free loopback port, with the actions this project's stacks need and moto lacks.

Prints one JSON line, {"port": N}, once it listens; the harness (scripts/emulator.ts) reads it.
Only emulator gaps are patched here; the stacks themselves never change for the emulator.
"""
import json
import os
import sys

# Managed policies (e.g. AmazonRDSEnhancedMonitoringRole) exist only with this set before moto loads.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
# moto issues a DNS-validated ACM certificate after this many seconds (default 60); nothing validates here.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse  # noqa: E402
from moto.ecs.models import EC2ContainerServiceBackend  # noqa: E402
import moto.route53.models as route53_models  # noqa: E402
from moto.ec2.models.launch_templates import LaunchTemplateBackend  # noqa: E402
from moto.rds.models import DBInstance, DBParameterGroup  # noqa: E402
from moto.ecs.models import Service as EcsService  # noqa: E402
from moto.logs.exceptions import ResourceNotFoundException as LogsResourceNotFound  # noqa: E402
from moto.logs.responses import LogsResponse  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


# moto 5.2 has no Application Auto Scaling tagging; the provider tags every scalable target (default
# tags) and retries ListTagsForResource until it times out. Tags live on the backend, so moto's reset
# clears them with everything else.
def _tags(self):
    backend = self.applicationautoscaling_backend
    if not hasattr(backend, "shim_tags"):
        backend.shim_tags = {}
    return backend.shim_tags


def _tag_resource(self):
    _tags(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
    return "{}"


def _untag_resource(self):
    tags = _tags(self).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _list_tags_for_resource(self):
    return json.dumps({"Tags": _tags(self).get(self._get_param("ResourceARN"), {})})


_register = ApplicationAutoScalingResponse.register_scalable_target


def _register_scalable_target(self):
    response = _register(self)
    if self._get_param("Tags"):
        _tags(self).setdefault(json.loads(response)["ScalableTargetARN"], {}).update(self._get_param("Tags"))
    return response


ApplicationAutoScalingResponse.tag_resource = _tag_resource
ApplicationAutoScalingResponse.untag_resource = _untag_resource
ApplicationAutoScalingResponse.list_tags_for_resource = _list_tags_for_resource
ApplicationAutoScalingResponse.register_scalable_target = _register_scalable_target


# moto runs no containers, so a service would never reach its desired count and the provider's
# wait_for_steady_state would time out. MOTO_ECS_SERVICE_RUNNING is one number for every service; here each
# service runs exactly the tasks it asks for, as a healthy service does. Nothing answers a health check.
_service_init = EcsService.__init__


def _service_runs_desired_count(self, *args, **kwargs):
    _service_init(self, *args, **kwargs)
    self.running_count, self.pending_count = self.desired_count, 0
    for deployment in self.deployments:
        deployment.update(runningCount=self.desired_count, pendingCount=0, rolloutState="COMPLETED")


EcsService.__init__ = _service_runs_desired_count


# DescribeCapacityProviders without names lists them all in AWS; moto 5.2 fails on it. The lifecycle's
# inventory needs it to prove that destroy removed the EC2 capacity provider.
_describe_capacity_providers = EC2ContainerServiceBackend.describe_capacity_providers


def _describe_all_capacity_providers(self, names):
    names = names or [provider.name for provider in self.capacity_providers.values()]
    return _describe_capacity_providers(self, names)


EC2ContainerServiceBackend.describe_capacity_providers = _describe_all_capacity_providers


# AWS hosted zone ids start with "Z" (the stacks validate that); moto 5.2 makes 22 random characters.
_zone_id = route53_models.create_route53_zone_id


def _aws_like_zone_id(*args, **kwargs):
    return "Z" + _zone_id(*args, **kwargs)[1:]


route53_models.create_route53_zone_id = _aws_like_zone_id


# moto 5.2 copies a launch template's own tags into its data's TagSpecifications, so the provider sees a
# change on every plan, makes a new version, and the Auto Scaling group starts an instance refresh that
# moto never finishes. AWS keeps the two apart.
_create_launch_template = LaunchTemplateBackend.create_launch_template


def _create_launch_template_without_own_tags(self, name, description, template_data, tag_spec):
    specs = template_data.get("TagSpecifications") or []
    template_data["TagSpecifications"] = [s for s in specs if s.get("ResourceType") != "launch-template"]
    return _create_launch_template(self, name, description, template_data, tag_spec)


LaunchTemplateBackend.create_launch_template = _create_launch_template_without_own_tags


# moto 5.2 does not keep a DB instance's Performance Insights and enhanced monitoring settings. The
# provider then sees a change after every apply and modifies the instance again, which costs a
# 90-second waiter on every deploy. AWS returns them under these names.
_db_init = DBInstance.__init__
_db_update = DBInstance.update


def _keep_monitoring_settings(self, kwargs):
    if "enable_performance_insights" in kwargs:
        self.performance_insights_enabled = bool(kwargs["enable_performance_insights"])
    for key in ("performance_insights_kms_key_id", "performance_insights_retention_period", "monitoring_role_arn"):
        if kwargs.get(key) is not None:
            setattr(self, key, kwargs[key])
    if kwargs.get("monitoring_interval") is not None:
        self.monitoring_interval = kwargs["monitoring_interval"]


def _db_init_keeping_monitoring(self, *args, **kwargs):
    _db_init(self, *args, **kwargs)
    self.performance_insights_enabled = False
    self.monitoring_interval = 0
    _keep_monitoring_settings(self, kwargs)


def _db_update_keeping_monitoring(self, *args, **kwargs):
    _db_update(self, *args, **kwargs)
    _keep_monitoring_settings(self, kwargs)


DBInstance.__init__ = _db_init_keeping_monitoring
DBInstance.update = _db_update_keeping_monitoring

# The provider keeps only parameters whose Source is "user"; moto 5.2 returns none, so every plan
# would set the parameter group's parameters again.
_update_parameters = DBParameterGroup.update_parameters


def _update_parameters_as_user(self, new_parameters):
    _update_parameters(self, [{**p, "Source": "user"} for p in new_parameters])


DBParameterGroup.update_parameters = _update_parameters_as_user


# moto 5.2 has no AssociateKmsKey/DisassociateKmsKey: a log group created before the stack encrypted its
# logs could never be given the key (the upgrade path). The key is only recorded; moto encrypts nothing.
def _log_group(self):
    group = self.logs_backend.groups.get(self._get_param("logGroupName"))
    if group is None:
        raise LogsResourceNotFound()
    return group


def _associate_kms_key(self):
    _log_group(self).kms_key_id = self._get_param("kmsKeyId")
    return ""


def _disassociate_kms_key(self):
    _log_group(self).kms_key_id = None
    return ""


LogsResponse.associate_kms_key = _associate_kms_key
LogsResponse.disassociate_kms_key = _disassociate_kms_key


def main() -> None:
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", int(os.environ.get("EMULATOR_PORT", "0")), app, threaded=True)
    os.environ["MOTO_PORT"] = str(server.port)
    print(json.dumps({"port": server.port}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()

"""moto's server on a free loopback port, with the actions this project's stacks need and moto lacks.

Prints one JSON line, {"port": N}, once it listens; the harness (emulator/server.ts) reads it.
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
from moto.ecs.responses import EC2ContainerServiceResponse  # noqa: E402
from moto.logs.exceptions import ResourceNotFoundException as LogsResourceNotFound  # noqa: E402
from moto.logs.responses import LogsResponse  # noqa: E402
from moto.budgets.exceptions import NotFoundException as BudgetNotFound  # noqa: E402
from moto.budgets.responses import BudgetsResponse  # noqa: E402
from moto.sqs.models import Queue as SqsQueue  # noqa: E402
from moto.ec2.exceptions import InvalidParameterValue as Ec2InvalidParameterValue  # noqa: E402
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule  # noqa: E402
from moto.core.responses import ActionResult, EmptyResult  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402
from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException, InvalidParameterValueException  # noqa: E402
from moto.elasticache.models import ElastiCacheBackend  # noqa: E402
from moto.elasticache.responses import ElastiCacheResponse  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
import re  # noqa: E402
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

# moto 5.2's CreateService drops the capacity provider strategy, placement strategy, health check grace
# period, managed tags and AZ rebalancing, and calls every service launch type EC2. The provider then
# plans to replace every service on every apply (a strategy or placement change forces a new service),
# which AWS never does. AWS keeps them and returns them; UpdateService already stores what it is sent.
SERVICE_SETTINGS = {
    "capacityProviderStrategy": "capacity_provider_strategy",
    "placementStrategy": "placement_strategy",
    "placementConstraints": "placement_constraints",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "enableExecuteCommand": "enable_execute_command",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
    "deploymentConfiguration": "deployment_configuration",
}
_create_service = EC2ContainerServiceResponse.create_service


def _create_service_keeping_settings(self):
    result = _create_service(self)
    service = self.ecs_backend.describe_services(self._get_param("cluster", "default"), [self._get_param("serviceName")])[0][0]
    for param, attribute in SERVICE_SETTINGS.items():
        if self._get_param(param) is not None:
            setattr(service, attribute, self._get_param(param))
    if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
        service.launch_type = None  # a service on capacity providers has no launch type
    return result


EC2ContainerServiceResponse.create_service = _create_service_keeping_settings


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

# A new DB instance gets its region's default CA when CreateDBInstance names none: rds-ca-rsa2048-g1 in
# AWS's commercial regions since January 2024. moto 5.2 says "rds-ca-default", a CA that does not exist.
# The provider never sends the CA with CreateDBInstance: it compares the created instance's CA with
# ca_cert_identifier and, only where they differ, modifies the instance and waits out its waiter again
# (about 80 s here). With the region's default, a database is created in one call, as on AWS.
RDS_DEFAULT_CA = "rds-ca-rsa2048-g1"
_db_init_keeping_monitoring_settings = DBInstance.__init__


def _db_init_with_default_ca(self, *args, **kwargs):
    if kwargs.get("ca_certificate_identifier") is None:
        kwargs["ca_certificate_identifier"] = RDS_DEFAULT_CA
    _db_init_keeping_monitoring_settings(self, *args, **kwargs)


DBInstance.__init__ = _db_init_with_default_ca

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


# moto 5.2 stores an SQS queue's RedriveAllowPolicy but never returns it, so the provider waits for it
# until it times out. AWS returns it among the queue's attributes, as moto does the RedrivePolicy.
SqsQueue.BASE_ATTRIBUTES.append("RedriveAllowPolicy")
_sqs_queue_init = SqsQueue.__init__


def _sqs_queue_init_with_redrive_allow_policy(self, *args, **kwargs):
    self.redrive_allow_policy = None
    _sqs_queue_init(self, *args, **kwargs)


SqsQueue.__init__ = _sqs_queue_init_with_redrive_allow_policy

# moto 5.2 returns a queue's RedrivePolicy as json.dumps writes it, with spaces; AWS returns it compact, and
# the provider keeps a whitespace change as a diff, so every plan would update the queue.
_sqs_queue_attributes = SqsQueue.attributes.fget


def _sqs_queue_attributes_compact(self):
    result = _sqs_queue_attributes(self)
    if result.get("RedrivePolicy"):
        result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
    return result


SqsQueue.attributes = property(_sqs_queue_attributes_compact)


# moto 5.2's AWS Budgets has no DescribeSubscribersForNotification, CreateSubscriber, DeleteSubscriber or
# UpdateBudget, and no tagging: the provider reads each alert's subscribers and the budget's tags after
# every create, and would wait for them until it times out. Subscribers are the ones moto keeps with each
# notification; tags live on the backend (CreateBudget's ResourceTags too), so moto's reset clears them.
def _budget(self, name=None):
    budgets = self.backend.budgets[self._get_param("AccountId")]
    name = name or self._get_param("BudgetName")
    if name not in budgets:
        raise BudgetNotFound(f"Unable to get budget: {name} - the budget doesn't exist.")
    return budgets[name]


def _same_notification(a, b):
    keys = ("NotificationType", "ComparisonOperator", "ThresholdType")
    return all(a.get(k, "PERCENTAGE" if k == "ThresholdType" else None) == b.get(k, "PERCENTAGE" if k == "ThresholdType" else None) for k in keys) and float(
        a.get("Threshold", 0)
    ) == float(b.get("Threshold", 0))


def _notification(self):
    wanted = self._get_param("Notification")
    for notification in _budget(self).notifications:
        if _same_notification(notification.details, wanted):
            return notification
    raise BudgetNotFound("Unable to find the notification.")


def _describe_subscribers_for_notification(self):
    return json.dumps({"Subscribers": _notification(self).subscribers, "NextToken": None})


def _create_subscriber(self):
    _notification(self).subscribers.append(self._get_param("Subscriber"))
    return "{}"


def _delete_subscriber(self):
    notification = _notification(self)
    gone = self._get_param("Subscriber")
    notification.subscribers = [s for s in notification.subscribers if s.get("Address") != gone.get("Address")]
    return "{}"


def _update_budget(self):
    new = self._get_param("NewBudget")
    budget = _budget(self, new["BudgetName"])
    budget.budget.update(new)
    return "{}"


def _budget_tags(self):
    if not hasattr(self.backend, "shim_tags"):
        self.backend.shim_tags = {}
    return self.backend.shim_tags


def _budget_arn(self, name):
    return f"arn:aws:budgets::{self._get_param('AccountId')}:budget/{name}"


_create_budget = BudgetsResponse.create_budget
_delete_budget = BudgetsResponse.delete_budget


def _create_budget_keeping_tags(self):
    response = _create_budget(self)
    tags = self._get_param("ResourceTags") or []
    if tags:
        _budget_tags(self)[_budget_arn(self, self._get_param("Budget")["BudgetName"])] = {t["Key"]: t["Value"] for t in tags}
    return response


def _delete_budget_and_tags(self):
    response = _delete_budget(self)
    _budget_tags(self).pop(_budget_arn(self, self._get_param("BudgetName")), None)
    return response


def _budget_tag_resource(self):
    tags = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []}
    _budget_tags(self).setdefault(self._get_param("ResourceARN"), {}).update(tags)
    return "{}"


def _budget_untag_resource(self):
    tags = _budget_tags(self).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("ResourceTagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _budget_list_tags_for_resource(self):
    tags = _budget_tags(self).get(self._get_param("ResourceARN"), {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})


BudgetsResponse.describe_subscribers_for_notification = _describe_subscribers_for_notification
BudgetsResponse.create_subscriber = _create_subscriber
BudgetsResponse.delete_subscriber = _delete_subscriber
BudgetsResponse.update_budget = _update_budget
BudgetsResponse.create_budget = _create_budget_keeping_tags
BudgetsResponse.delete_budget = _delete_budget_and_tags
BudgetsResponse.tag_resource = _budget_tag_resource
BudgetsResponse.untag_resource = _budget_untag_resource
BudgetsResponse.list_tags_for_resource = _budget_list_tags_for_resource


# AWS refuses a security group or rule description outside this set (ASCII letters and digits, space,
# and ._-:/()#,@[]+=&;{}!$*) or over 255 characters, mid-apply; moto 5.2 and the provider take anything.
# Refused here as EC2 refuses it, so the emulator lifecycle fails where an apply to AWS would.
_EC2_DESCRIPTION = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


def _check_description(description, what="security group"):
    if description is not None and not _EC2_DESCRIPTION.match(description):
        raise Ec2InvalidParameterValue(
            f"Invalid {what} description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{{}}!$*"
        )


def _check_rule_descriptions(*entry_lists):
    for entries in entry_lists:
        for entry in entries or []:
            _check_description(entry.get("Description"), "rule")


_create_security_group = SecurityGroupBackend.create_security_group
_authorize_ingress = SecurityGroupBackend.authorize_security_group_ingress
_authorize_egress = SecurityGroupBackend.authorize_security_group_egress
_modify_rules = SecurityGroupBackend.modify_security_group_rules


def _create_security_group_checked(self, name, description, *args, **kwargs):
    _check_description(description)
    return _create_security_group(self, name, description, *args, **kwargs)


def _authorize_ingress_checked(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags=None, source_groups=None, prefix_list_ids=None, *args, **kwargs):
    _check_rule_descriptions(ip_ranges, source_groups, prefix_list_ids)
    return _authorize_ingress(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags, source_groups, prefix_list_ids, *args, **kwargs)


def _authorize_egress_checked(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags=None, source_groups=None, prefix_list_ids=None, *args, **kwargs):
    _check_rule_descriptions(ip_ranges, source_groups, prefix_list_ids)
    return _authorize_egress(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags, source_groups, prefix_list_ids, *args, **kwargs)


def _modify_rules_checked(self, group_id, rules):
    _check_rule_descriptions(rules.values())
    return _modify_rules(self, group_id, rules)


SecurityGroupBackend.create_security_group = _create_security_group_checked
SecurityGroupBackend.authorize_security_group_ingress = _authorize_ingress_checked
SecurityGroupBackend.authorize_security_group_egress = _authorize_egress_checked
SecurityGroupBackend.modify_security_group_rules = _modify_rules_checked


# moto 5.2 keeps a rule's description only for a CIDR rule: one that names a security group or a prefix
# list loses it, so every plan would set it again. AWS keeps it for every rule (DescribeSecurityGroupRules).
_security_group_rule_init = SecurityGroupRule.__init__


def _security_group_rule_init_keeping_description(self, ec2_backend, ip_protocol, group_id, from_port, to_port, ip_range, source_group=None, prefix_list_id=None, *args, **kwargs):
    _security_group_rule_init(self, ec2_backend, ip_protocol, group_id, from_port, to_port, ip_range, source_group, prefix_list_id, *args, **kwargs)
    self.other_description = (source_group or prefix_list_id or {}).get("Description")


SecurityGroupRule.__init__ = _security_group_rule_init_keeping_description
SecurityGroupRule.description = property(lambda self: self.ip_range.get("Description") or getattr(self, "other_description", None))


# ElastiCache replication groups (a Valkey or Redis OSS cache). moto 5.2 keeps a replication group but not
# its member clusters: DescribeCacheClusters does not know them, and the provider reads a group's node type,
# engine version, parameter group, subnet group, security groups, maintenance window and encryption from its
# first member cluster, so every read failed. It also builds one member whatever NumCacheClusters says, never
# removes a deleted group (the provider waits 45 minutes for it to go), and has no ModifyReplicationGroup,
# IncreaseReplicaCount, DecreaseReplicaCount, DeleteCacheSubnetGroup or ModifyCacheSubnetGroup. Each is answered
# as the Amazon ElastiCache API Reference says (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/):
#   - API_CreateReplicationGroup.html: NumCacheClusters counts the primary and its replicas; AuthToken only with
#     TransitEncryptionEnabled, 16 to 128 printable characters whose only specials are !&#$^<>-; with no
#     EngineVersion or CacheParameterGroupName, the newest version and its family's default group;
#   - API_DescribeCacheClusters.html and API_CacheCluster.html: every member is a one-node cluster with the
#     group's node type, engine, parameter group, subnet group, security groups, windows and encryption;
#   - API_DeleteReplicationGroup.html: the group, its clusters (the primary kept with RetainPrimaryCluster) and
#     its tags go; FinalSnapshotIdentifier leaves a snapshot. AWS takes minutes; here the next describe is
#     ReplicationGroupNotFoundFault;
#   - API_ModifyReplicationGroup.html: the settings a release changes; with no maintenance window ever passing
#     here, ApplyImmediately=false applies at once too;
#   - API_IncreaseReplicaCount.html, API_DecreaseReplicaCount.html: NewReplicaCount (or ReplicasToRemove) of a
#     group without cluster mode; a clustered group's ReplicaConfiguration is refused, saying so;
#   - API_ModifyReplicationGroupShardConfiguration.html: not emulated, refused with a 400 that says so;
#   - API_DeleteCacheSubnetGroup.html: CacheSubnetGroupInUse while a cluster uses it, else gone with its tags;
#   - API_ModifyCacheSubnetGroup.html: a new description or subnets.
class ElastiCacheMemberCluster:
    """A replication group's member cluster, as DescribeCacheClusters shows it: one node, the group's settings."""

    def __init__(self, group, cache_cluster_id, availability_zone, account_id, region_name):
        self.group = group
        self.cache_cluster_id = cache_cluster_id
        self.replication_group_id = group.replication_group_id
        self.preferred_availability_zone = availability_zone
        self.num_cache_nodes = 1
        self.cache_cluster_status = self.status = "available"
        self.cache_cluster_create_time = utcnow()
        self.arn = f"arn:aws:elasticache:{region_name}:{account_id}:cluster:{cache_cluster_id}"
        self.cache_security_groups = []

    def __getattr__(self, name):
        # Whatever the group holds for all its clusters (node type, engine, windows, encryption) is read from it.
        if name in ("cache_node_type", "engine", "engine_version", "cache_subnet_group_name", "preferred_maintenance_window",
                    "snapshot_window", "snapshot_retention_limit", "auth_token_enabled", "auth_token_last_modified_date",
                    "transit_encryption_enabled", "transit_encryption_mode", "at_rest_encryption_enabled",
                    "auto_minor_version_upgrade", "network_type", "ip_discovery", "port", "notification_topic_arn"):
            return getattr(self.__dict__["group"], name)
        raise AttributeError(name)

    @property
    def cache_parameter_group(self):
        return {"CacheParameterGroupName": self.group.cache_parameter_group_name, "ParameterApplyStatus": "in-sync", "CacheNodeIdsToReboot": []}

    @property
    def security_groups(self):
        return [{"SecurityGroupId": group_id, "Status": "active"} for group_id in self.group.security_group_ids or []]


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"


# AWS's newest versions when CreateReplicationGroup names none, and each family's default parameter group.
ELASTICACHE_DEFAULT_VERSIONS = {"valkey": "8.1", "redis": "7.1"}
# CreateReplicationGroup's AuthToken: 16 to 128 printable ASCII characters, of the specials only !&#$^<>-.
_AUTH_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>\-]{16,128}$")


def _default_parameter_group(engine, version):
    major, minor = (version.split(".") + ["0"])[:2]
    if engine == "valkey":
        return f"default.valkey{major}"
    return f"default.redis{major}" if int(major) >= 7 else f"default.redis{major}.x" if major == "6" else f"default.redis{major}.{minor}"


def _check_auth_token(token, transit_encryption_enabled):
    if token is None:
        return
    if not transit_encryption_enabled:
        raise InvalidParameterValueException("The AUTH token is only supported when encryption-in-transit is enabled.")
    if not _AUTH_TOKEN.match(token):
        raise InvalidParameterValueException(
            "Invalid AuthToken provided. It must be 16 to 128 printable characters; the only special characters allowed are !, &, #, $, ^, <, > and -."
        )


def _member_name(group, number):
    return f"{group.replication_group_id}-{number:0>3}"


def _register_members(backend, group):
    """Every member of every node group becomes a cluster DescribeCacheClusters knows; none that left stays."""
    members = {m["cache_cluster_id"]: m.get("preferred_availability_zone") for g in group.node_groups for m in g["node_group_members"]}
    for cluster_id in [c for c, cluster in backend.cache_clusters.items() if getattr(cluster, "group", None) is group and c not in members]:
        del backend.cache_clusters[cluster_id]
    for cluster_id, zone in members.items():
        if cluster_id not in backend.cache_clusters:
            backend.cache_clusters[cluster_id] = ElastiCacheMemberCluster(group, cluster_id, zone, backend.account_id, backend.region_name)
    group.member_clusters[:] = list(members)


_create_replication_group = ElastiCacheBackend.create_replication_group


def _create_replication_group_with_members(self, **kwargs):
    _check_auth_token(kwargs.get("auth_token"), kwargs.get("transit_encryption_enabled"))
    # moto counts a non-clustered group's members from ReplicasPerNodeGroup only; NumCacheClusters is the primary and its replicas.
    if kwargs.get("num_cache_clusters") and not kwargs.get("replicas_per_node_group") and kwargs.get("cluster_mode") != "enabled":
        kwargs["replicas_per_node_group"] = kwargs["num_cache_clusters"] - 1
    engine = kwargs.get("engine") or "redis"
    kwargs["engine_version"] = kwargs.get("engine_version") or ELASTICACHE_DEFAULT_VERSIONS.get(engine, "7.1")
    kwargs["cache_parameter_group_name"] = kwargs.get("cache_parameter_group_name") or _default_parameter_group(engine, kwargs["engine_version"])
    group = _create_replication_group(self, **kwargs)
    auto_upgrade = kwargs.get("auto_minor_version_upgrade")
    group.auto_minor_version_upgrade = str(auto_upgrade).lower() != "false" if auto_upgrade is not None else True
    group.security_group_ids = group.security_group_ids or []
    if group.transit_encryption_enabled and not group.transit_encryption_mode:
        group.transit_encryption_mode = "required"
    for node_group in group.node_groups:
        if "reader_endpoint_address" in node_group:
            node_group["reader_endpoint"] = {"address": node_group["reader_endpoint_address"], "port": group.port}
    _register_members(self, group)
    return group


def _delete_replication_group_and_members(self, replication_group_id, retain_primary_cluster):
    """The group answers "deleting" once, then is gone with its clusters and tags (AWS takes minutes; nothing waits here)."""
    group = self.describe_replication_groups(replication_group_id)[0]
    group.status = "deleting"
    primary = group.member_clusters[0] if group.member_clusters else None
    for cluster_id in list(group.member_clusters):
        if retain_primary_cluster and cluster_id == primary:
            continue
        self.cache_clusters.pop(cluster_id, None)
    del self.replication_groups[replication_group_id]
    self.tagging_service.delete_all_tags_for_resource(group.arn)
    return group


_delete_replication_group_response = ElastiCacheResponse.delete_replication_group


def _delete_replication_group_with_final_snapshot(self):
    name = self._get_param("FinalSnapshotIdentifier")
    if name:
        group_id = self._get_param("ReplicationGroupId")
        group = self.elasticache_backend.describe_replication_groups(group_id)[0]
        self.elasticache_backend.create_snapshot(name, group_id, None, group.kms_key_id, None)
    return _delete_replication_group_response(self)


# ModifyReplicationGroup's settings that the group keeps as they are sent. ApplyImmediately is ignored: no
# maintenance window ever passes on the emulator, so every change applies at once.
REPLICATION_GROUP_SETTINGS = {
    "ReplicationGroupDescription": "description",
    "CacheNodeType": "cache_node_type",
    "Engine": "engine",
    "EngineVersion": "engine_version",
    "CacheParameterGroupName": "cache_parameter_group_name",
    "PreferredMaintenanceWindow": "preferred_maintenance_window",
    "SnapshotWindow": "snapshot_window",
    "SnapshottingClusterId": "snapshotting_cluster_id",
    "SecurityGroupIds": "security_group_ids",
    "NotificationTopicArn": "notification_topic_arn",
    "TransitEncryptionMode": "transit_encryption_mode",
    "IpDiscovery": "ip_discovery",
    "ClusterMode": "cluster_mode",
}


def _modify_replication_group(self):
    group = self.elasticache_backend.describe_replication_groups(self._get_param("ReplicationGroupId"))[0]
    for param, attribute in REPLICATION_GROUP_SETTINGS.items():
        if self._get_param(param) is not None:
            setattr(group, attribute, self._get_param(param))
    if self._get_param("SnapshotRetentionLimit") is not None:
        group.snapshot_retention_limit = self._get_int_param("SnapshotRetentionLimit")
    for param, attribute in (("AutomaticFailoverEnabled", "automatic_failover"), ("MultiAZEnabled", "multi_az")):
        if self._get_bool_param(param) is not None:
            setattr(group, attribute, "enabled" if self._get_bool_param(param) else "disabled")
    for param, attribute in (("AutoMinorVersionUpgrade", "auto_minor_version_upgrade"), ("TransitEncryptionEnabled", "transit_encryption_enabled")):
        if self._get_bool_param(param) is not None:
            setattr(group, attribute, self._get_bool_param(param))
    if self._get_param("AuthToken") is not None or self._get_param("AuthTokenUpdateStrategy") == "DELETE":
        _check_auth_token(self._get_param("AuthToken"), group.transit_encryption_enabled)
        group.auth_token_enabled = self._get_param("AuthTokenUpdateStrategy") != "DELETE"
        group.auth_token_last_modified_date = utcnow()
    if self._get_param("LogDeliveryConfigurations") is not None:
        kept = {c["LogType"]: c for c in group.log_delivery_configurations}
        for config in self._get_param("LogDeliveryConfigurations"):
            if config.get("DestinationType"):
                kept[config["LogType"]] = group._get_log_delivery_configurations([config])[0]
            else:
                kept.pop(config.get("LogType"), None)
        group.log_delivery_configurations = list(kept.values())
    return ActionResult({"ReplicationGroup": group})


def _non_clustered_group(self):
    group = self.elasticache_backend.describe_replication_groups(self._get_param("ReplicationGroupId"))[0]
    if group.cluster_mode == "enabled" or self._get_param("ReplicaConfiguration"):
        raise InvalidParameterValueException("The emulator changes the replica count of a group without cluster mode only (NewReplicaCount).")
    return group


def _increase_replica_count(self):
    group = _non_clustered_group(self)
    members = group.node_groups[0]["node_group_members"]
    domain = members[0]["read_endpoint"]["address"].split(".", 1)[1]
    for number in range(len(members) + 1, self._get_int_param("NewReplicaCount") + 2):
        cluster_id = _member_name(group, number)
        members.append({
            "cache_cluster_id": cluster_id,
            "cache_node_id": group.node_groups[0]["node_group_id"],
            "read_endpoint": {"address": f"{cluster_id}.{domain}", "port": group.port},
            "preferred_availability_zone": "us-east-1b" if number % 2 == 0 else "us-east-1a",
            "current_role": "replica",
        })
    _register_members(self.elasticache_backend, group)
    return ActionResult({"ReplicationGroup": group})


def _decrease_replica_count(self):
    group = _non_clustered_group(self)
    members = group.node_groups[0]["node_group_members"]
    gone = set(self._get_param("ReplicasToRemove") or [])
    if self._get_param("NewReplicaCount") is not None:
        replicas = [m["cache_cluster_id"] for m in members if m.get("current_role") != "primary"]
        gone |= set(replicas[self._get_int_param("NewReplicaCount"):])
    if any(m["cache_cluster_id"] in gone and m.get("current_role") == "primary" for m in members):
        raise InvalidParameterValueException("The primary cluster cannot be removed as a replica.")
    members[:] = [m for m in members if m["cache_cluster_id"] not in gone]
    _register_members(self.elasticache_backend, group)
    return ActionResult({"ReplicationGroup": group})


def _refuse_shard_configuration(self):
    # Not emulated. moto answers an action it lacks with an HTML 500, which the provider retries for minutes;
    # a 400 that says so fails the apply at once.
    raise InvalidParameterValueException("The emulator does not change a group's shards (ModifyReplicationGroupShardConfiguration).")


def _delete_cache_subnet_group(self):
    backend, name = self.elasticache_backend, self._get_param("CacheSubnetGroupName")
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    if any(getattr(c, "cache_subnet_group_name", None) == name and c.cache_cluster_status != "deleting" for c in backend.cache_clusters.values()):
        raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by a cache cluster.")
    backend.tagging_service.delete_all_tags_for_resource(backend.cache_subnet_groups.pop(name).arn)
    return EmptyResult()


def _modify_cache_subnet_group(self):
    group = self.elasticache_backend.describe_cache_subnet_groups(self._get_param("CacheSubnetGroupName"))[0]
    if self._get_param("CacheSubnetGroupDescription") is not None:
        group.cache_subnet_group_description = self._get_param("CacheSubnetGroupDescription")
    if self._get_param("SubnetIds"):
        fresh = type(group)(self.current_account, self.region, group.cache_subnet_group_name, group.cache_subnet_group_description, self._get_param("SubnetIds"), None)
        group.subnet_ids, group.subnets, group.vpc_id, group.supported_network_types = fresh.subnet_ids, fresh.subnets, fresh.vpc_id, fresh.supported_network_types
    return ActionResult({"CacheSubnetGroup": group})


ElastiCacheBackend.create_replication_group = _create_replication_group_with_members
ElastiCacheBackend.delete_replication_group = _delete_replication_group_and_members
ElastiCacheResponse.delete_replication_group = _delete_replication_group_with_final_snapshot
ElastiCacheResponse.modify_replication_group = _modify_replication_group
ElastiCacheResponse.increase_replica_count = _increase_replica_count
ElastiCacheResponse.decrease_replica_count = _decrease_replica_count
ElastiCacheResponse.modify_replication_group_shard_configuration = _refuse_shard_configuration
ElastiCacheResponse.delete_cache_subnet_group = _delete_cache_subnet_group
ElastiCacheResponse.modify_cache_subnet_group = _modify_cache_subnet_group


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

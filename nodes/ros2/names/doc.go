// Package names resolves ROS 2 names and reads the ROS 2 command line, as rcl does: the
// validation rules of topic, service, node and namespace names (rmw_validate_*,
// rcl_validate_topic_name), expansion of relative and private (~) names and of {node} and
// {ns} substitutions against the node's namespace, remap rules applied to the expanded name,
// the DDS mangling of topic and service names (rt/, rq/…Request, rr/…Reply), and
// `--ros-args` with -r/--remap, -p/--param (YAML-typed values), --params-file, --log-level,
// -e/--enclave and the logging switches. It imports nothing else from rssmd.
package names

// The AWS SDK warns once per process that its releases after the first week of January 2027 need
// Node 22. The bundles pin their SDK, so on the Node 20 this CI runs the warning is noise in test
// output; child processes the tests start inherit the setting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

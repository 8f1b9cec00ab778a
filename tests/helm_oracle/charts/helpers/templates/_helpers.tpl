{{/* Written for tokenguard's Helm oracle test. */}}
{{- define "helpers.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end }}

{{- define "helpers.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Pod-spec keys shared by the deployments; the token setting from values. */}}
{{- define "helpers.podCommon" -}}
automountServiceAccountToken: {{ .Values.pod.automount }}
enableServiceLinks: false
{{- end }}

{{/* A helper that asks for the token outright. */}}
{{- define "helpers.podWantsToken" -}}
automountServiceAccountToken: true
{{- end }}

{{/* Keys without the token setting. */}}
{{- define "helpers.podSecurity" -}}
securityContext:
  runAsNonRoot: true
{{- end }}

{{/* A whole pod spec, the token setting from values. */}}
{{- define "helpers.workerPodSpec" -}}
automountServiceAccountToken: {{ .Values.worker.automount }}
containers:
  - name: worker
    image: busybox
{{- end }}

{{/* A whole pod spec without the token setting. */}}
{{- define "helpers.plainPodSpec" -}}
{{ include "helpers.podSecurity" . }}
containers:
  - name: app
    image: busybox
{{- end }}

{{/* The setting under a condition the values decide. */}}
{{- define "helpers.batchPod" -}}
{{- if not .Values.batch.tokens }}
automountServiceAccountToken: false
{{- end }}
restartPolicy: Never
{{- end }}

{{- define "helpers.serviceAccountName" -}}
{{ include "helpers.fullname" . }}
{{- end }}

{{/* A whole pod spec from values, as YAML: in-place reading cannot tell. */}}
{{- define "helpers.podFromValues" -}}
{{ toYaml .Values.podSpec }}
{{- end }}

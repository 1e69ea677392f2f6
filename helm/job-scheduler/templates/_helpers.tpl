{{- define "job-scheduler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "job-scheduler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "job-scheduler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "job-scheduler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "job-scheduler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "job-scheduler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "job-scheduler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "job-scheduler.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- /*
The component file: the values' component as given, nothing added, so that what a user leaves out keeps the
service's default. name and image are the two fields the Kubernetes runtime cannot do without.
*/}}
{{- define "job-scheduler.componentYaml" -}}
{{- $_ := required "component.name is required: the job component's name, as in its Radix jobs: entry (e.g. --set component.name=compute)" .Values.component.name }}
{{- $_ = required "component.image is required: the image each job runs (e.g. --set component.image=registry.example.com/compute:1.0)" .Values.component.image }}
{{- toYaml .Values.component }}
{{- end }}

{{- /*
The port the service listens on: containerPort, else component.schedulerPort, else 8080. The component file
keeps schedulerPort as given and the service listens on JOB_SCHEDULER_PORT, so a containerPort that differs
from schedulerPort is refused rather than left to contradict it.
*/}}
{{- define "job-scheduler.containerPort" -}}
{{- $schedulerPort := .Values.component.schedulerPort }}
{{- $containerPort := .Values.containerPort }}
{{- if and $schedulerPort $containerPort (ne (int $schedulerPort) (int $containerPort)) }}
{{- fail (printf "containerPort (%d) differs from component.schedulerPort (%d): the service listens on one port; leave containerPort empty, or make them equal" (int $containerPort) (int $schedulerPort)) }}
{{- end }}
{{- $containerPort | default $schedulerPort | default 8080 | int }}
{{- end }}

{{- /* The Service's port: service.port, else the container port (Radix serves http://<component>:<schedulerPort>). */}}
{{- define "job-scheduler.servicePort" -}}
{{- .Values.service.port | default (include "job-scheduler.containerPort" .) | int }}
{{- end }}
